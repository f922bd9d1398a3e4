"""The ET document written to a file and sent from it: the same bytes as built in memory."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from test_et_payload import sample_run

from tmupload.junit.write import XmlWriter
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.targets.et.payload import build_payload, payload_file, write_payload


def _big_run(count: int) -> RunReport:
    cases = [
        CaseResult(
            case_id=f"suite{n % 3}::test_{n % 500}",  # repeated names: numbered " #2", ...
            suite=f"suite{n % 3}",
            name=f"test_{n % 500}",
            outcome=Outcome.FAILED if n % 7 == 0 else Outcome.PASSED,
            message=f"boom {n}",
            details="trace é\n" * 3,
        )
        for n in range(count)
    ]
    return RunReport(name="big", cases=cases)


def test_the_file_holds_the_same_document_as_memory(tmp_path: Path) -> None:
    run = sample_run()
    with payload_file(run, tmp_path) as payload:
        assert payload.xml == build_payload(run).xml
        assert payload.size == len(payload.xml)
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone


def test_a_large_document_is_written_in_pieces_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(XmlWriter, "SPILL_AT", 50)
    run = _big_run(3000)

    class Counting(io.BytesIO):
        writes = 0

        def write(self, data: bytes) -> int:  # type: ignore[override]
            Counting.writes += 1
            return super().write(data)

    out = Counting()
    payload = write_payload(run, out)
    assert Counting.writes > 100
    assert out.getvalue() == build_payload(run).xml
    assert payload.size == len(out.getvalue())
    assert payload.case_ids == build_payload(run).case_ids
    assert len(payload.case_ids) == 3000  # every repeat kept under its own name
    assert ("suite0", "test_0 #2") in payload.case_ids


def test_the_upload_body_is_framed_as_the_api_frames_it_and_can_be_sent_again(
    tmp_path: Path,
) -> None:
    run = sample_run()
    xml = build_payload(run).xml
    with payload_file(run, tmp_path) as payload:
        body = payload.body("tmupload-results.xml")
        first = b"".join(body)
        assert b"".join(body) == first  # a retried request sends it whole again
    head = (
        f"--{body.boundary}\r\n"
        'Content-Disposition: form-data; name="fileupload"; filename="tmupload-results.xml"\r\n'
        "Content-Type: text/xml\r\n"
        f"Content-Length: {len(xml)}\r\n\r\n"
    ).encode("ascii")
    assert first == head + xml + f"\r\n--{body.boundary}--\r\n".encode("ascii")
    assert len(body) == len(first)
    assert body.content_type == f"multipart/mixed; boundary={body.boundary}"


def test_httpx_sends_the_body_with_its_length_not_chunked(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return httpx.Response(202, json={})

    with payload_file(_big_run(500), tmp_path) as payload:
        body = payload.body("r.xml")
        headers = {"Content-Type": body.content_type, "Content-Length": str(len(body))}
        with httpx.Client(transport=httpx.MockTransport(answer)) as client:
            for _ in range(2):
                client.post("http://et.test/runs", content=body, headers=headers)  # type: ignore[arg-type]
    for request in seen:
        assert "transfer-encoding" not in request.headers
        assert int(request.headers["content-length"]) == len(request.content) == len(body)


def test_a_payload_file_that_shrank_is_not_sent_short(tmp_path: Path) -> None:
    with payload_file(sample_run(), tmp_path) as payload:
        body = payload.body("r.xml")
        handle = payload._handle
        assert handle is not None
        handle.truncate(10)
        with pytest.raises(OSError, match="ended"):
            b"".join(body)


def test_the_writer_keeps_everything_without_a_file() -> None:
    xml = XmlWriter()
    xml.start("a", {"x": "1"})
    for _ in range(XmlWriter.SPILL_AT + 10):
        xml.start("b", {})
        xml.end("b")
        xml.spill()  # nothing to spill to: kept
    xml.end("a")
    xml.close()
    assert xml.getvalue().count(b"<b/>") == XmlWriter.SPILL_AT + 10


def test_elements_written_as_the_tests_ended_give_the_same_document() -> None:
    from dataclasses import replace

    from tmupload.models import TicketRef
    from tmupload.targets.et.stream import EtStream

    run = _big_run(600)  # repeated names: numbered " #2" in the document
    stream = EtStream()
    for case in run.cases:
        stream.add(case)
    stream.end()
    # After the stream saw them: a ticket map adds a ticket, a case comes again changed.
    run.cases[3] = replace(run.cases[3], tickets=[TicketRef(key="PAY-1")])
    run.cases[7].message = "changed after it was written"  # a failure: its message is sent
    whole = build_payload(run).xml
    with_pieces = io.BytesIO()
    write_payload(run, with_pieces, stream.pieces)
    assert with_pieces.getvalue() == whole
    assert b'value="PAY-1"' in whole and b"changed after it was written" in whole


def test_the_pieces_written_ahead_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from tmupload.targets.et import payload as et_payload
    from tmupload.targets.et.stream import EtStream

    run = sample_run()
    stream = EtStream()
    for case in run.cases:
        stream.add(case)
    written: list[str] = []
    real = et_payload._write_case

    def counting(xml: XmlWriter, case: CaseResult, name: str) -> None:
        written.append(case.case_id)
        real(xml, case, name)

    monkeypatch.setattr(et_payload, "_write_case", counting)
    out = io.BytesIO()
    write_payload(run, out, stream.pieces)
    assert written == []  # every element came from the stream
    assert out.getvalue() == build_payload(run).xml
