"""The decision letter: its content, gathered from a decided application, and that content
as a PDF in Traditional Chinese, Simplified Chinese or English.

The text is set in the platform's embedded sans family (``kit.pdf``), so every viewer
shows the Chinese, and the letter is tagged for screen readers (its language, a heading
for the title and each section, a paragraph for each line). The same decision gives the
same bytes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4
from sqlalchemy.orm import Session

from borderpass.identity.schemas import Principal
from borderpass.kit.clock import hk_date
from borderpass.kit.pdf import Region, TaggedDocument
from borderpass.kit.vault import open_text
from borderpass.permits import policy as policies
from borderpass.permits import repository
from borderpass.permits.applications import (
    WrongState,
    _endorsement_view,
    authorise,
    get_application,
)
from borderpass.permits.schemas import EndorsementView

__all__ = ["LetterData", "letter_data", "render_letter"]


@dataclass(frozen=True)
class LetterData:
    """Everything the decision letter shows, already in the letter's language."""

    locale: str
    reference: str
    name: str
    applicant_masked: str
    permit_masked: str
    kind: str
    reason: str | None
    destination: str
    outcome: str
    decided_on: date
    office: str
    office_address: str
    reasons: tuple[str, ...]
    note: str | None
    endorsement: EndorsementView | None
    trip_conditions: tuple[str, ...]
    return_conditions: tuple[str, ...]


def letter_data(
    session: Session, application_id: uuid.UUID, *, caller: Principal, locale: str | None = None
) -> LetterData:
    """Gather the decision letter's content; only a decided application has one."""
    authorise(caller, application_id)
    application = get_application(session, application_id)
    if application.status not in ("approved", "refused") or application.decided_at is None:
        raise WrongState(state=application.status)
    policy = policies.current()
    language = locale or application.locale
    decided_on = hk_date(application.decided_at)
    conditions = policy.conditions_on(decided_on) if application.status == "approved" else None
    office = repository.get_office(session, application.office_id) if application.office_id \
        else None
    endorsement = repository.endorsement_of(session, application.id)
    return LetterData(
        locale=language,
        reference=application.reference,
        name=open_text("permit.name", application.name_sealed),
        applicant_masked=application.applicant_masked,
        permit_masked=application.permit_masked,
        kind=policy.types[application.kind].name.get(language),
        reason=policy.reasons[application.reason].name.get(language)
        if application.reason in policy.reasons else None,
        destination=application.destination,
        outcome=application.status,
        decided_on=decided_on,
        office=office.name if office else "",
        office_address=office.address if office else "",
        reasons=tuple(application.decision_reasons or ()),
        note=application.decision_note,
        endorsement=_endorsement_view(endorsement) if endorsement else None,
        trip_conditions=tuple(t.get(language) for t in conditions.trip) if conditions else (),
        return_conditions=tuple(t.get(language) for t in conditions.return_)
        if conditions else (),
    )

# The letter's own wording in the three languages, kept with the letter like the policy's
# texts are kept with the policy.
_WORDS: dict[str, tuple[str, str, str]] = {  # en, zh_Hant, zh_Hans
    "title": ("Decision on an application for an endorsement", "簽注申請決定書", "签注申请决定书"),
    "reference": ("Application reference", "申請編號", "申请编号"),
    "name": ("Applicant", "申請人", "申请人"),
    "id": ("Resident identity card", "居民身份證", "居民身份证"),
    "permit": ("Exit-entry permit", "往來港澳通行證", "往来港澳通行证"),
    "kind": ("Endorsement type", "簽注種類", "签注种类"),
    "reason": ("Reason", "事由", "事由"),
    "destination": ("Destination", "前往地", "前往地"),
    "office": ("Office", "受理單位", "受理单位"),
    "date": ("Date of decision", "決定日期", "决定日期"),
    "HK": ("Hong Kong", "香港", "香港"),
    "MO": ("Macau", "澳門", "澳门"),
    "approved": ("The application is APPROVED. The endorsement below has been issued.",
                 "申請獲批准，並已簽發以下簽注。", "申请获批准，并已签发以下签注。"),
    "refused": ("The application is REFUSED for the following reasons:",
                "申請不獲批准，理由如下：", "申请不予批准，理由如下："),
    "number": ("Endorsement number", "簽注號碼", "签注号码"),
    "entries": ("Number of entries", "入境次數", "入境次数"),
    "valid": ("Valid from {start} to {end}", "有效期：{start}至{end}", "有效期：{start}至{end}"),
    "stay": ("Stay per entry: {days} days", "每次逗留：{days}天", "每次逗留：{days}天"),
    "trip": ("Epidemic conditions for the trip", "出行防疫要求", "出行防疫要求"),
    "return": ("Epidemic conditions on the return", "返回時防疫要求", "返回时防疫要求"),
    "note": ("Written reason", "書面理由", "书面理由"),
    "footer": ("Keep this letter with your exit-entry permit and show it when asked.",
               "請將本決定書與通行證一併保存，並按要求出示。",
               "请将本决定书与通行证一并保存，并按要求出示。"),
}
_COLUMN = {"en": 0, "zh_Hant": 1, "zh_Hans": 2}
# The offices and applicants are on the mainland: Simplified Chinese and English letters
# take the mainland's glyph forms, Traditional Chinese ones Hong Kong's.
_REGIONS: dict[str, Region] = {"zh_Hans": "sc", "zh_Hant": "hk", "en": "sc"}


def render_letter(data: LetterData) -> bytes:
    """Return the decision letter of ``data`` as PDF bytes."""
    locale = data.locale

    def t(key: str, **params: object) -> str:
        text = _WORDS[key][_COLUMN.get(locale, 0)]
        return text.format(**params) if params else text

    # (role, text, size, bold, indent) for each block, in reading order
    blocks: list[tuple[str, str, float, bool, float]] = [
        ("P", data.office or "borderpass", 12, True, 0)]
    if data.office_address:
        blocks.append(("P", data.office_address, 9, False, 0))
    blocks.append(("H1", t("title"), 15, True, 0))
    fields = [
        ("reference", data.reference),
        ("name", data.name),
        ("id", data.applicant_masked),
        ("permit", data.permit_masked),
        ("kind", data.kind),
        ("reason", data.reason or ""),
        ("destination", t(data.destination) if data.destination in _WORDS else data.destination),
        ("office", data.office),
        ("date", data.decided_on.isoformat()),
    ]
    blocks += [("P", f"{t(key)}: {value}", 10.5, False, 0) for key, value in fields if value]
    if data.outcome == "approved":
        blocks.append(("H2", t("approved"), 12, True, 0))
        if data.endorsement is not None:
            e = data.endorsement
            blocks += [("P", text, 10.5, False, 12) for text in (
                f"{t('number')}: {e.number}", f"{t('entries')}: {e.entries}",
                t("valid", start=e.valid_from.isoformat(), end=e.valid_until.isoformat()),
                t("stay", days=e.stay_days))]
    else:
        blocks.append(("H2", t("refused"), 12, True, 0))
        blocks += [("P", f"{number}. {reason}", 10.5, False, 12)
                   for number, reason in enumerate(data.reasons, 1)]
    if data.note:
        blocks.append(("P", f"{t('note')}: {data.note}", 10.5, False, 0))
    for title, items in (("trip", data.trip_conditions), ("return", data.return_conditions)):
        if items:
            blocks.append(("H2", t(title), 12, True, 0))
            blocks += [("P", f"- {item}", 10.5, False, 12) for item in items]
    blocks.append(("P", t("footer"), 9, False, 0))

    width, height = A4
    left, top, bottom = 56.0, height - 64.0, 64.0
    with TaggedDocument(title=t("title") + " " + data.reference, locale=locale,
                        texts=[text for _role, text, *_rest in blocks], pagesize=A4,
                        author=data.office or "borderpass",
                        region=_REGIONS.get(locale, "sc")) as doc:
        y = top
        for role, text, size, bold, indent in blocks:
            if role != "P" or text == t("footer"):
                y -= 8 if role != "H1" else 4  # space above a heading and the footer
            with doc.element(role):
                for part in doc.wrap(text, size, width - 2 * left - indent, bold=bold):
                    if y < bottom:
                        doc.new_page()
                        y = top
                    doc.text(left + indent, y, part, size, bold=bold)
                    y -= size * 1.6
        return doc.finish()
