"""report.pdf is an archival record: PDF/A-3b, tagged, fonts embedded, metadata set, and the run's
SHA256SUMS and evidence manifest embedded byte for byte as associated files. Read back with pypdf
from the demo run's PDF (rendered once per worker); one more render checks `keyaudit report`."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.evidence.store import MANIFEST
from keyaudit.evidence.sums import SHA256SUMS, evidence_sums_text
from keyaudit.report.pdf_archive import EVIDENCE_MANIFEST, pdf_archive
from keyaudit.report.queries import rows
from keyaudit.warehouse.db import connect
from tests.runs import AS_OF

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}


@pytest.fixture(scope="module")
def pdf_path(demo_run) -> Path:
    return demo_run.report_dir / "report.pdf"


@pytest.fixture(scope="module")
def reader(pdf_path: Path) -> PdfReader:
    return PdfReader(pdf_path)


@pytest.fixture(scope="module")
def catalog(reader: PdfReader) -> DictionaryObject:
    return reader.trailer["/Root"].get_object()


@pytest.fixture(scope="module")
def xmp(catalog) -> ElementTree.Element:
    return ElementTree.fromstring(catalog["/Metadata"].get_object().get_data())


def _xmp_values(xmp: ElementTree.Element, name: str) -> list[str]:
    """Every value of `prefix:name` in the XMP, as an attribute or as an element's text."""
    prefix, local = name.split(":")
    key = f"{{{NS[prefix]}}}{local}"
    found = [d.attrib[key] for d in xmp.iter(f"{{{NS['rdf']}}}Description") if key in d.attrib]
    for element in xmp.iter(key):
        found += [t.strip() for t in element.itertext() if t.strip()]
    return found


def associated_files(catalog) -> dict[str, dict[str, Any]]:
    """The catalog's associated files (/AF), by name: bytes, relationship and MIME subtype."""
    out: dict[str, dict[str, Any]] = {}
    for ref in catalog["/AF"]:
        spec = ref.get_object()
        stream = spec["/EF"]["/F"].get_object()
        assert spec["/UF"] not in out, f"{spec['/UF']} listed twice in /AF"
        out[spec["/UF"]] = {
            "data": stream.get_data(),
            "relationship": spec["/AFRelationship"],
            "subtype": stream["/Subtype"],
            "params": stream["/Params"],
        }
    return out


def test_pdf_says_it_is_pdfa_3b_in_its_xmp_metadata(reader, xmp, catalog):
    assert _xmp_values(xmp, "pdfaid:part") == ["3"]
    assert _xmp_values(xmp, "pdfaid:conformance") == ["B"]
    assert reader.pdf_header == "%PDF-1.7"
    (intent,) = catalog["/OutputIntents"]
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent  # sRGB ICC profile


def test_pdf_is_tagged_with_a_structure_tree_and_a_language(catalog):
    assert "/StructTreeRoot" in catalog
    assert catalog["/StructTreeRoot"].get_object()["/K"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "en"


def test_pdf_embeds_the_runs_sha256sums_and_manifest_byte_for_byte(catalog, demo_run):
    files = associated_files(catalog)
    assert sorted(files) == [SHA256SUMS, EVIDENCE_MANIFEST]
    on_disk = {
        SHA256SUMS: (demo_run.evidence_run_dir / SHA256SUMS).read_bytes(),
        EVIDENCE_MANIFEST: (demo_run.evidence_run_dir / MANIFEST).read_bytes(),
    }
    for name, data in on_disk.items():
        assert hashlib.sha256(files[name]["data"]).hexdigest() == hashlib.sha256(data).hexdigest()
        assert files[name]["params"]["/Size"] == len(data)
    con = connect(demo_run.warehouse, read_only=True)
    try:
        recorded = rows(con, "run", {"run_id": demo_run.run_id})[0]["manifest_sha256"]
    finally:
        con.close()
    assert hashlib.sha256(files[EVIDENCE_MANIFEST]["data"]).hexdigest() == recorded
    assert (files[SHA256SUMS]["relationship"], files[SHA256SUMS]["subtype"]) == (
        "/Data",
        "/text/plain",
    )
    assert (files[EVIDENCE_MANIFEST]["relationship"], files[EVIDENCE_MANIFEST]["subtype"]) == (
        "/Source",
        "/application/json",
    )


def test_embedded_files_are_also_in_the_attachments_list(reader):
    """What `pdfdetach -list` and PDF viewers show: the embedded-files name tree."""
    assert sorted(reader.attachments) == [SHA256SUMS, EVIDENCE_MANIFEST]


def test_sha256sums_is_written_before_the_pdf_that_embeds_it(demo_run, pdf_path):
    sums = demo_run.evidence_run_dir / SHA256SUMS
    assert sums.stat().st_mtime_ns <= pdf_path.stat().st_mtime_ns


def test_pdf_records_title_author_creator_and_the_runs_time(reader, xmp, demo_run):
    info = reader.metadata
    assert info.title == f"AWS access key audit · run {demo_run.run_id}"
    assert info.author == "keyaudit"
    assert info.creator.startswith("keyaudit ")
    assert info.producer.startswith("WeasyPrint")
    assert demo_run.run_id in info.subject
    assert info.creation_date == info.modification_date == AS_OF  # the run's, never the clock
    stamp = AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _xmp_values(xmp, "xmp:CreateDate") == _xmp_values(xmp, "xmp:ModifyDate") == [stamp]
    assert _xmp_values(xmp, "dc:title") == [info.title]
    assert _xmp_values(xmp, "dc:creator") == ["keyaudit"]


def test_every_font_is_embedded(reader):
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descendant = descendant.get_object()
                fonts[descendant["/BaseFont"]] = descendant["/FontDescriptor"].get_object()
    assert any("DejaVu" in name for name in fonts)
    for name, descriptor in fonts.items():
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), name


def test_nothing_is_transparent(reader):
    """PDF/A-3 allows transparency, but an archive copy should not depend on blending: no soft
    masks, no constant alpha below 1, on any page."""
    for page in reader.pages:
        for state in (page["/Resources"].get("/ExtGState") or {}).values():
            state = state.get_object()
            assert state.get("/SMask", "/None") == "/None"
            assert float(state.get("/CA", 1)) == 1 and float(state.get("/ca", 1)) == 1


def test_page_count_and_text_are_unchanged(reader, demo_run):
    assert demo_run.result.pdf_pages == len(reader.pages) > 1
    first = " ".join(reader.pages[0].extract_text().split())
    assert "AWS access key audit" in first
    assert f"Run {demo_run.run_id}" in first


@pytest.mark.slow  # lays out the 26-page archival PDF again: make test-slow
def test_keyaudit_report_renders_the_same_archival_pdf(demo_run, pdf_path, tmp_path):
    """Re-rendered from the warehouse (no SHA256SUMS written), the PDF embeds the same
    SHA256SUMS, built by the same function, and the run's manifest: the same bytes."""
    before = (demo_run.evidence_run_dir / SHA256SUMS).stat().st_mtime_ns
    result = CliRunner().invoke(
        app,
        [
            "report", "--run", demo_run.run_id, "--format", "pdf", "--out", str(tmp_path),
            "--config", str(demo_run.warehouse.parent / "keyaudit.toml"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.pdf").read_bytes() == pdf_path.read_bytes()
    assert (demo_run.evidence_run_dir / SHA256SUMS).stat().st_mtime_ns == before


# --- what goes in, without rendering ------------------------------------------------------


def _context(files: list[dict[str, Any]], manifest_sha256: str | None, *, sliced: bool = False):
    """What pdf_archive reads of a ReportContext: its evidence and its summary's run."""
    summary = SimpleNamespace(
        run={"run_id": "r1", "organization_id": "o-abc123def4", "as_of": "2026-12-01 06:00 UTC"},
        organization_name=None,
        generated_at="2026-12-01 07:30 UTC",
        slice={"account_ids": ["012345678901"], "count": 1} if sliced else None,
    )
    return SimpleNamespace(
        evidence={"files": files, "manifest_sha256": manifest_sha256}, summary=summary
    )


FILES = [
    {"path": "run.json", "sha256": "a" * 64},
    {"path": "012345678901/users.json", "sha256": "b" * 64},
    {"path": SHA256SUMS, "sha256": "c" * 64},  # never lists itself
]


def test_sha256sums_lists_the_evidence_then_the_manifest_and_never_itself():
    assert evidence_sums_text(FILES, "d" * 64) == (
        f"{'a' * 64}  run.json\n{'b' * 64}  012345678901/users.json\n{'d' * 64}  manifest.json\n"
    )


def test_a_manifest_that_is_not_the_recorded_one_is_not_embedded(tmp_path: Path, caplog):
    (tmp_path / MANIFEST).write_bytes(b'{"files": []}\n')
    with caplog.at_level(logging.WARNING, logger="keyaudit.report"):
        archive = pdf_archive(_context(FILES, "d" * 64), evidence_dir=tmp_path)
    assert [f.name for f in archive.files] == [SHA256SUMS]
    assert caplog.messages == [
        f"run r1: {tmp_path / MANIFEST} is not the manifest the warehouse recorded — not "
        "embedded in report.pdf; check the evidence with `keyaudit verify r1`"
    ]


def test_the_recorded_manifest_is_embedded_as_source(tmp_path: Path):
    data = b'{"files": []}\n'
    (tmp_path / MANIFEST).write_bytes(data)
    archive = pdf_archive(_context(FILES, hashlib.sha256(data).hexdigest()), evidence_dir=tmp_path)
    sums, manifest = archive.files
    assert (manifest.name, manifest.data, manifest.relationship) == (
        EVIDENCE_MANIFEST,
        data,
        "Source",
    )
    assert sums.data == evidence_sums_text(FILES, hashlib.sha256(data).hexdigest()).encode()
    assert archive.created.isoformat() == "2026-12-01T07:30:00+00:00"


def test_an_owners_slice_embeds_its_sums_but_never_the_whole_runs_manifest(tmp_path: Path):
    data = b'{"files": []}\n'
    (tmp_path / MANIFEST).write_bytes(data)
    context = _context(FILES, hashlib.sha256(data).hexdigest(), sliced=True)
    assert [f.name for f in pdf_archive(context, evidence_dir=tmp_path).files] == [SHA256SUMS]
