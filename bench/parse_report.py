"""Parse time of a 100,000-row credential report (the parser must stay vectorised)."""

from __future__ import annotations

import statistics
import time

from keyaudit.sources.credential_report import COLUMNS, parse_credential_report

ROWS = 100_000


def make_report(rows: int = ROWS) -> bytes:
    header = ",".join(COLUMNS)
    line = (
        "user{n},arn:aws:iam::111122223333:user/user{n},2025-01-01T00:00:00+00:00,true,"
        "2026-11-01T10:00:00+00:00,2025-01-01T00:00:00+00:00,N/A,true,true,"
        "2025-01-01T00:00:00+00:00,2026-11-20T10:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,"
        "false,N/A,false,N/A"
    )
    return ("\n".join([header, *(line.format(n=n) for n in range(rows))])).encode()


def main() -> None:
    content = make_report()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        parsed = parse_credential_report(content, source="bench")
        times.append(time.perf_counter() - started)
    assert len(parsed.rows) == ROWS
    print(
        f"parse {ROWS:,} rows ({len(content) / 1e6:.1f} MB): median {statistics.median(times):.2f} s, best {min(times):.2f} s"
    )


if __name__ == "__main__":
    main()
