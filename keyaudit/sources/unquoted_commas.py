"""A credential report row split by the commas of a user name that was written without quotes.

IAM allows commas in user names (and in paths). AWS quotes such cells (RFC 4180), and the CSV
reader reads them whole; moto writes them bare, so each comma of a name adds two fields to its
row (one in `user`, one in `arn`, which ends with the name), and each comma of a path one more.
The ARN repeats the name, so the row can be read back: the one way of giving the extra fields to
`user` and `arn` whose ARN is that user's. There is never more than one: a name holds no slash
while the ARN's first field does (`…:user/`), so no field can be part of the name in one reading
and begin the ARN in another.
"""

from __future__ import annotations

from keyaudit.sources.iam_names import names_user


def rejoined(record: list[str], width: int) -> list[str] | None:
    """`record` (more than `width` fields) as `width` fields in which only `user` (the first)
    and `arn` (the second) took in commas and the ARN names that user; None when no reading
    does (the extra fields are not commas of a name: an edited or shifted file)."""
    extra = len(record) - width
    for in_name in range(extra + 1):  # commas in the name; the rest are in the ARN's path
        user = ",".join(record[: in_name + 1])
        arn = ",".join(record[in_name + 1 : extra + 2])
        if names_user(arn, user):
            return [user, arn, *record[extra + 2 :]]
    return None
