"""The request's unit of work: it ends before the answer is sent, reads cannot write, and
a page answering a refusal rolls back without the page asking."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Message, Receive, Scope, Send

from borderpass.kit import outbox
from borderpass.kit.http import DbSession, Now, Writer, refuse


def _count(session: Session, reference: str) -> int:
    return session.scalar(select(func.count()).select_from(outbox.OutboxMessage)
                          .where(outbox.OutboxMessage.reference == reference)) or 0


def _queue(session: Session, reference: str, now: datetime) -> None:
    outbox.queue(session, channel="sms", purpose="test", recipient="+85291234567",
                 body="hello", reference=reference, now=now)


def _app(factory: sessionmaker[Session], now: datetime, order: list[str]) -> FastAPI:
    app = FastAPI()
    app.state.session_factory = factory
    app.state.clock = lambda: now

    @app.post("/write/{reference}")
    def write(reference: str, session: DbSession, at: Now) -> dict[str, str]:
        _queue(session, reference, at)
        return {"queued": reference}

    @app.get("/write-in-read/{reference}")
    def write_in_read(reference: str, session: DbSession, at: Now) -> dict[str, str]:
        _queue(session, reference, at)
        return {"queued": reference}

    @app.get("/first-view/{reference}")
    def first_view(reference: str, session: DbSession, at: Now, writer: Writer) -> dict[str, int]:
        if _count(session, reference) == 0:
            with writer() as writing:
                _queue(writing, reference, at)
        return {"count": _count(session, reference)}

    @app.post("/refused/{reference}")
    def refused(reference: str, request: Request, session: DbSession, at: Now,
                keep: bool = False) -> HTMLResponse:
        _queue(session, reference, at)
        if not keep:
            refuse(request)
        return HTMLResponse("<p>not accepted</p>", status_code=422)

    async def watch(scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                order.append("response")
            await send(message)
        await app(scope, receive, sending)

    return watch  # type: ignore[return-value]


def test_the_commit_comes_before_the_answer(factory: sessionmaker[Session], session: Session,
                                           now: datetime) -> None:
    order: list[str] = []

    def committed(_session: Session) -> None:
        order.append("commit")

    event.listen(Session, "after_commit", committed)
    try:
        with TestClient(_app(factory, now, order)) as client:
            assert client.post("/write/ref-a").status_code == 200
    finally:
        event.remove(Session, "after_commit", committed)
    assert order == ["commit", "response"]
    assert _count(session, "ref-a") == 1


def test_a_read_cannot_write(factory: sessionmaker[Session], session: Session,
                             now: datetime) -> None:
    with TestClient(_app(factory, now, []), raise_server_exceptions=False) as client:
        assert client.get("/write-in-read/ref-b").status_code == 500
    assert _count(session, "ref-b") == 0


def test_a_read_writes_once_through_its_writer(factory: sessionmaker[Session], session: Session,
                                               now: datetime) -> None:
    with TestClient(_app(factory, now, [])) as client:
        assert client.get("/first-view/ref-c").json() == {"count": 1}
        assert client.get("/first-view/ref-c").json() == {"count": 1}
    assert _count(session, "ref-c") == 1


def test_a_refusal_rolls_back_unless_it_keeps(factory: sessionmaker[Session], session: Session,
                                              now: datetime) -> None:
    with TestClient(_app(factory, now, [])) as client:
        assert client.post("/refused/ref-d").status_code == 422
        assert client.post("/refused/ref-e", params={"keep": True}).status_code == 422
    assert _count(session, "ref-d") == 0
    assert _count(session, "ref-e") == 1


def test_a_page_answering_an_error_rolls_back(factory: sessionmaker[Session],
                                               session: Session, now: datetime) -> None:
    from borderpass.kit.pages import render

    app = FastAPI()
    app.state.session_factory = factory

    @app.post("/form/{reference}")
    def form(reference: str, request: Request, session: DbSession, status: int = 422,
             keep: bool = False) -> HTMLResponse:
        _queue(session, reference, now)
        return render(request, "error.html", status=status, keep_writes=keep,
                      status_code=status, message="not accepted")

    with TestClient(app) as client:
        assert client.post("/form/ref-f").status_code == 422
        assert client.post("/form/ref-g", params={"keep": True}).status_code == 422
        assert client.post("/form/ref-h", params={"status": 200}).status_code == 200
    assert (_count(session, "ref-f"), _count(session, "ref-g"), _count(session, "ref-h")) == (
        0, 1, 1)
