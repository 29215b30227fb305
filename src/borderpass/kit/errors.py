"""One error tree. Each error has a stable code, an HTTP status and a translatable message.

Domains define their errors beside their services by subclassing these. The web layer
renders them as JSON (``{"error": {"code", "message", "field"}}``) or as a page; the
command line prints the message and exits non-zero.
"""

from __future__ import annotations

from typing import Any, ClassVar

from borderpass.kit.i18n import InLocales, Plural, _, translate, translate_plural

__all__ = [
    "BorderpassError",
    "Conflict",
    "Forbidden",
    "Gone",
    "InvalidFragment",
    "InvalidInput",
    "NotFound",
    "TooLarge",
    "Unauthorised",
    "sentence",
]


class BorderpassError(Exception):
    """The root of every error the platform reports to a caller."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    message: ClassVar[str] = _("The request could not be completed.")
    # A message with a plural form, chosen by the number in the parameter ``counted_by``
    # ("1 attempt left", "2 attempts left"); ``message`` is then its plural, in English.
    plural: ClassVar[Plural | None] = None
    counted_by: ClassVar[str] = "count"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        code: str | None = None,
        details: Any = None,
        keep: bool = False,
        **params: Any,
    ) -> None:
        self.text = message or self.message
        self._plural = self.plural if message is None else None
        # keep: the unit of work commits what was flushed before the error (a spent PIN
        # attempt must count even though the caller gets an error).
        self.keep = keep
        self.field = field
        self.params = params
        self.details = details
        if code is not None:
            self.code = code  # type: ignore[misc]  # instances may narrow the class code
        super().__init__(self.render("en"))

    def __reduce__(self) -> tuple[Any, ...]:
        # Whole across processes (a refusal raised in a worker process, kit.offload),
        # whatever the subclass's own constructor takes.
        return (_restore, (type(self), self.args, self.__dict__))

    @property
    def headers(self) -> dict[str, str]:
        """Return the HTTP headers the answer carries besides its body (Retry-After, say)."""
        return {}

    def render(self, locale: str = "en") -> str:
        """Return the message in ``locale`` with its parameters filled in.

        A parameter that is itself a marked message (``expected=_("a digit")``) is
        translated too.
        """
        params = {name: translate(value, locale) if isinstance(value, str)
                  else value.get(locale) if isinstance(value, InLocales) else value
                  for name, value in self.params.items()}
        count = self.params.get(self.counted_by)
        if self._plural is not None and isinstance(count, int):
            return translate_plural(self._plural, count, locale, **params)
        return translate(self.text, locale, **params)

    def fragment(self, locale: str = "en") -> str:
        """Return the message as written, to be part of a longer text ("line 3: …")."""
        return BorderpassError.render(self, locale)

    def as_json(self, locale: str = "en") -> dict[str, Any]:
        """Return the error as the JSON body the API sends."""
        body: dict[str, Any] = {"code": self.code, "message": self.render(locale)}
        if self.field is not None:
            body["field"] = self.field
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


def _restore(kind: type[BorderpassError], args: tuple[Any, ...],
             state: dict[str, Any]) -> BorderpassError:
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InvalidInput(BorderpassError):
    code = "invalid_input"
    status = 422
    message = _("The input is not valid.")


class InvalidFragment(InvalidInput):
    """Bad input whose messages are written as fragments ("wrong length: …"), so that a
    batch can say "line 3: document_number: wrong length: …"; shown on its own (a form,
    an API answer) a message starts with a capital letter."""

    def render(self, locale: str = "en") -> str:
        """Return the message in ``locale`` as a sentence of its own."""
        return sentence(super().render(locale))


def sentence(text: str) -> str:
    """Start a text with a capital letter (a script without case is left as it is)."""
    return text[:1].upper() + text[1:]


class NotFound(BorderpassError):
    code = "not_found"
    status = 404
    message = _("Not found.")


class Conflict(BorderpassError):
    code = "conflict"
    status = 409
    message = _("This conflicts with what is already recorded.")


class Gone(BorderpassError):
    code = "gone"
    status = 410
    message = _("This has expired.")


class Unauthorised(BorderpassError):
    code = "unauthorised"
    status = 401
    message = _("Sign in or give a valid key.")


class Forbidden(BorderpassError):
    code = "forbidden"
    status = 403
    message = _("You may not do this.")


class TooLarge(BorderpassError):
    code = "too_large"
    status = 413
    message = _("The upload is too large.")
