-- Temporary macros of the report's connection (read-only warehouses included) that format the
-- cells of findings.csv and the values of findings.json in DuckDB, byte for byte as Python's csv
-- module (excel dialect) and json module (ensure_ascii=False) wrote them from each finding:
-- 442,000 findings are about 30 s of Python per format and a second or two here. Read by
-- export_lines.sql; tests/report/test_export_bytes.py pins every byte they write.

-- Text a spreadsheet would run as a formula (it starts with = + - @, tab, CR or NUL) gets a
-- leading quote: keyaudit.textsafe.safe_cell, the one rule for every CSV and workbook cell.
create or replace temp macro ka_csv_neutral(value) as
    case
        when left(value, 1) in ('=', '+', '-', '@', chr(9), chr(13), chr(0)) then '''' || value
        else value
    end;

-- A text cell as the csv module writes it (QUOTE_MINIMAL, excel dialect): quoted, its quotes
-- doubled, when it holds a comma, a quote, CR or LF; a null is an empty field.
create or replace temp macro ka_csv_text(value) as
    case
        when value is null then ''
        when contains(value, ',') or contains(value, '"') or contains(value, chr(10))
            or contains(value, chr(13))
            then '"' || replace(ka_csv_neutral(value), '"', '""') || '"'
        else ka_csv_neutral(value)
    end;

-- A number or boolean cell: its digits, true or false; a null is an empty field.
create or replace temp macro ka_csv_value(value) as
    coalesce(cast(to_json(value) as varchar), '');

-- A JSON string as json.dumps(ensure_ascii=False) writes it: quoted, a backslash and a quote
-- escaped, a control character as \b \f \n \r \t or \u00xx (lowercase hex, where DuckDB's
-- to_json writes uppercase) character by character (rare: AWS names cannot hold one); anything
-- else, unicode line separators included, as it is.
create or replace temp macro ka_json_text(value) as
    case
        when value is null then 'null'
        when regexp_matches(value, '[\x00-\x1f]')
            then '"' || array_to_string(
                list_transform(
                    string_split(value, ''),
                    lambda c: case
                        when c = '"' then '\"'
                        when c = '\' then '\\'
                        when c = chr(8) then '\b'
                        when c = chr(12) then '\f'
                        when c = chr(10) then '\n'
                        when c = chr(13) then '\r'
                        when c = chr(9) then '\t'
                        when ord(c) < 32 then '\u' || lower(printf('%04x', ord(c)))
                        else c
                    end
                ),
                ''
            ) || '"'
        when contains(value, '"') or contains(value, '\')
            then '"' || replace(replace(value, '\', '\\'), '"', '\"') || '"'
        else '"' || value || '"'
    end;

-- A number or boolean as JSON; null for null.
create or replace temp macro ka_json_value(value) as
    coalesce(cast(to_json(value) as varchar), 'null');

-- A time as the exports write it (keyaudit.report.exports._iso): ISO 8601 in UTC with a Z,
-- microseconds only when there are some.
create or replace temp macro ka_iso_utc(value) as
    strftime(timezone('UTC', value), '%Y-%m-%dT%H:%M:%S')
    || case
        when strftime(timezone('UTC', value), '%f') = '000000' then ''
        else '.' || strftime(timezone('UTC', value), '%f')
    end
    || 'Z';

-- shlex.quote: a value with anything but letters, digits and _@%+=:,./- single-quoted, its single
-- quotes written as '"'"'.
create or replace temp macro ka_shell_quote(value) as
    case
        when value = '' then ''''''
        when regexp_matches(value, '[^A-Za-z0-9_@%+=:,./-]')
            then '''' || replace(value, '''', '''"''"''') || ''''
        else value
    end;

-- A placeholder's value in one finding, shell-quoted (the q_ arguments, null when the finding
-- has none); null for a placeholder the exports do not know.
create or replace temp macro ka_command_value(
    name, q_account, q_role, q_user, q_key, q_root_key, q_credential
) as
    case name
        when 'ACCOUNT_ID' then q_account
        when 'ROLE' then q_role
        when 'USER' then q_user
        when 'KEY_ID' then q_key
        when 'ROOT_KEY_ID' then q_root_key
        when 'CREDENTIAL_ID' then q_credential
    end;

-- str.splitlines of a text cut by the regular expression: its last piece dropped when empty
-- (the text ended with a line break), each line a shell comment ("# "), joined by LF.
create or replace temp macro ka_comment_lines(pieces) as
    array_to_string(
        list_transform(
            case
                when len(pieces) > 1 and pieces[len(pieces)] = ''
                    then list_slice(pieces, 1, len(pieces) - 1)
                else pieces
            end,
            lambda line: '# ' || line
        ),
        chr(10)
    );

-- A rule's command filled in for one finding, as keyaudit.rules.commands.fill_command fills it.
-- parts: the template cut at its placeholders (text, name, text, …); names and words: its
-- placeholders in order of first use and what each stands for in words; filled: the parts with
-- each known value in place (ka_filled_parts). If a value is unknown, the whole text is a
-- comment that names what to fill in, a line break being any that str.splitlines knows.
create or replace temp macro ka_filled_parts(
    parts, q_account, q_role, q_user, q_key, q_root_key, q_credential
) as
    array_to_string(
        list_transform(
            range(1, len(parts) + 1),
            lambda i: case
                when i % 2 = 1 then parts[i]
                else coalesce(
                    ka_command_value(
                        parts[i], q_account, q_role, q_user, q_key, q_root_key, q_credential
                    ),
                    parts[i]
                )
            end
        ),
        ''
    );

create or replace temp macro ka_missing_words(
    names, words, q_account, q_role, q_user, q_key, q_root_key, q_credential
) as
    list_filter(
        list_transform(
            range(1, len(names) + 1),
            lambda i: case
                when ka_command_value(
                    names[i], q_account, q_role, q_user, q_key, q_root_key, q_credential
                ) is null then words[i]
            end
        ),
        lambda w: w is not null
    );

create or replace temp macro ka_filled_command(filled, missing) as
    case
        when filled is null then null
        when len(missing) = 0 then filled
        else ka_comment_lines(regexp_split_to_array(
            'fill in ' || array_to_string(missing, ' and ') || ' first, then run: ' || filled,
            '\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x{85}\x{2028}\x{2029}]'
        ))
    end;
