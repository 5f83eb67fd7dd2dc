"""Reading uploaded files: encodings, delimiters, row numbers, and the files built
to hurt (huge lines, zip bombs, entity bombs). Every fixture file is made here."""

import csv
import datetime
import io
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suffrage.imports.readers import DEFAULT_LIMITS, FileSniff, ImportFileError, ImportLimits, iter_rows, sniff

MEGABYTE = 1024 * 1024


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def write(tmp_path, content, name="contacts.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def read(path, filename="contacts.csv", limits=DEFAULT_LIMITS):
    """The sniff and every row, as the import pipeline would read them."""
    found = sniff(path, filename=filename, limits=limits)
    return found, list(iter_rows(path, sniffed=found, limits=limits))


def xlsx(tmp_path, rows, name="contacts.xlsx"):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def rewrite_member(path, member, change):
    """Rebuild the zip at `path` with `change` applied to one member's text."""
    with zipfile.ZipFile(path) as archive:
        contents = {info.filename: archive.read(info) for info in archive.infolist()}
    contents[member] = change(contents[member].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, data in contents.items():
            archive.writestr(filename, data)


# --- CSV: encodings and delimiters -------------------------------------------


def test_a_utf8_csv(tmp_path):
    path = write(tmp_path, "Nom;Prénom;Email\nDupont;Hélène;h.dupont@example.fr\n".encode())
    found, rows = read(path)
    assert found == FileSniff(
        format="csv",
        encoding="utf-8",
        delimiter=";",
        headers=["Nom", "Prénom", "Email"],
        preview=[["Dupont", "Hélène", "h.dupont@example.fr"]],
    )
    assert rows == [(2, ["Dupont", "Hélène", "h.dupont@example.fr"])]


def test_a_utf8_bom_never_reaches_the_first_header(tmp_path):
    path = write(tmp_path, "\ufeffNom;Prénom\nDupont;Jean\n".encode())
    found, rows = read(path)
    assert found.encoding == "utf-8-sig"
    assert found.headers == ["Nom", "Prénom"]
    assert rows == [(2, ["Dupont", "Jean"])]


def test_a_windows_1252_csv_from_french_excel(tmp_path):
    path = write(tmp_path, "Nom;Prénom\r\nLe Goff;Hélène\r\n".encode("cp1252"))
    found, rows = read(path)
    assert found.encoding == "cp1252"
    assert found.headers == ["Nom", "Prénom"]
    assert rows == [(2, ["Le Goff", "Hélène"])]


def test_a_multibyte_character_cut_by_the_sample_is_still_utf8(tmp_path):
    # "é" is two bytes in UTF-8: put its first byte at the last position of the 1 MB sample.
    header = b"Nom;Ville\n"
    filler = b"a" * (MEGABYTE - len(header) - len(b"Dupont;") - 1)
    path = write(tmp_path, header + b"Dupont;" + filler + "é\n".encode())
    found, rows = read(path, limits=ImportLimits(max_cell_chars=2 * MEGABYTE))
    assert found.encoding == "utf-8"
    assert rows[0][1][1].endswith("aé")


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_each_delimiter_is_recognised(tmp_path, delimiter):
    path = write(tmp_path, delimiter.join(["Nom", "Prénom", "Ville"]).encode() + b"\n" + b"Dupont;x,y|z\n")
    found = sniff(path, filename="contacts.csv")
    assert found.delimiter == delimiter


def test_delimiters_inside_quotes_are_not_counted(tmp_path):
    path = write(tmp_path, b'"Nom, pr\xc3\xa9nom, surnom";Ville;Code\nDupont;Brest;29200\n')
    found = sniff(path, filename="contacts.csv")
    assert found.delimiter == ";"
    assert found.headers == ["Nom, prénom, surnom", "Ville", "Code"]


def test_a_single_column_file_uses_commas(tmp_path):
    path = write(tmp_path, b"Email\na@example.fr\nb@example.fr\n")
    found, rows = read(path)
    assert found.delimiter == ","
    assert rows == [(2, ["a@example.fr"]), (3, ["b@example.fr"])]


def test_a_txt_file_is_read_as_csv(tmp_path):
    path = write(tmp_path, b"Nom\tVille\nDupont\tBrest\n", name="export.txt")
    found = sniff(path, filename="export.txt")
    assert (found.format, found.delimiter) == ("csv", "\t")


# --- CSV: rows and their numbers ---------------------------------------------


def test_a_quoted_line_break_stays_in_one_row(tmp_path):
    path = write(tmp_path, b'Nom;Adresse\nDupont;"1 rue de Siam\n29200 Brest"\nMartin;"2 rue ""Jean"" Jaur\xc3\xa8s"\n')
    _, rows = read(path)
    assert rows == [(2, ["Dupont", "1 rue de Siam\n29200 Brest"]), (3, ["Martin", '2 rue "Jean" Jaurès'])]


@pytest.mark.parametrize("newline", [b"\r\n", b"\r", b"\n"])
def test_any_line_ending_is_understood(tmp_path, newline):
    path = write(tmp_path, newline.join([b"Nom;Ville", b"Dupont;Brest", b"Martin;Quimper", b""]))
    _, rows = read(path)
    assert rows == [(2, ["Dupont", "Brest"]), (3, ["Martin", "Quimper"])]


def test_ragged_rows_are_yielded_as_found(tmp_path):
    path = write(tmp_path, b"Nom;Ville;Code\nDupont;Brest\nMartin;Quimper;29000;extra\n")
    _, rows = read(path)
    assert rows == [(2, ["Dupont", "Brest"]), (3, ["Martin", "Quimper", "29000", "extra"])]


def test_blank_rows_are_skipped_but_counted(tmp_path):
    path = write(tmp_path, b"Nom;Ville\n\nDupont;Brest\n;\n   ;  \nMartin;Quimper\n")
    found, rows = read(path)
    assert rows == [(3, ["Dupont", "Brest"]), (6, ["Martin", "Quimper"])]
    assert found.preview == [["Dupont", "Brest"], ["Martin", "Quimper"]]


def test_cells_and_headers_are_stripped(tmp_path):
    path = write(tmp_path, b"  Nom ; Ville  \n  Dupont  ;\tBrest \n")
    found, rows = read(path)
    assert found.headers == ["Nom", "Ville"]
    assert rows == [(2, ["Dupont", "Brest"])]


def test_the_preview_holds_the_first_rows_only(tmp_path):
    path = write(tmp_path, b"Nom\n" + b"".join(b"person %d\n" % number for number in range(50)))
    found = sniff(path, filename="contacts.csv", preview_rows=3)
    assert found.preview == [["person 0"], ["person 1"], ["person 2"]]


def test_a_file_with_a_header_only_has_no_rows(tmp_path):
    found, rows = read(write(tmp_path, b"Nom;Ville\n"))
    assert (found.headers, found.preview, rows) == (["Nom", "Ville"], [], [])


# --- CSV: files refused -------------------------------------------------------


def test_duplicate_column_names_are_refused_by_name(tmp_path):
    path = write(tmp_path, b"Nom;Email;Ville;email;Nom\n")
    with pytest.raises(ImportFileError, match="appear more than once") as error:
        sniff(path, filename="contacts.csv")
    assert "“Nom”" in str(error.value) and "“Email”" in str(error.value)


def test_unnamed_columns_are_not_duplicates(tmp_path):
    found = sniff(write(tmp_path, b"Nom;;Ville;\n"), filename="contacts.csv")
    assert found.headers == ["Nom", "", "Ville", ""]


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="The file is empty"):
        sniff(write(tmp_path, b""), filename="contacts.csv")


@pytest.mark.parametrize("content", [b"\nDupont;Brest\n", b" ; ;\nDupont;Brest\n", b"\xef\xbb\xbf\n"])
def test_a_file_without_a_header_is_refused(tmp_path, content):
    with pytest.raises(ImportFileError, match="must hold the column names"):
        sniff(write(tmp_path, content), filename="contacts.csv")


def test_too_many_columns_are_refused(tmp_path):
    path = write(tmp_path, ";".join(f"col{number}" for number in range(6)).encode() + b"\n")
    with pytest.raises(ImportFileError, match=r"The file has 6 columns; the limit is 5\."):
        sniff(path, filename="contacts.csv", limits=ImportLimits(max_columns=5))


def test_too_many_rows_are_refused_when_the_limit_is_crossed(tmp_path):
    limits = ImportLimits(max_rows=3)
    path = write(tmp_path, b"Nom\na\nb\n\nc\n")
    assert [number for number, _ in read(path, limits=limits)[1]] == [2, 3, 5]
    path = write(tmp_path, b"Nom\na\nb\nc\nd\n")
    found = sniff(path, filename="contacts.csv", limits=limits, preview_rows=2)
    rows = iter_rows(path, sniffed=found, limits=limits)
    assert [next(rows) for _ in range(3)] == [(2, ["a"]), (3, ["b"]), (4, ["c"])]
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        next(rows)


def test_a_file_over_the_size_limit_is_refused_with_both_sizes(tmp_path):
    path = write(tmp_path, b"Nom\n" + b"x" * (MEGABYTE + MEGABYTE // 2 - 4))
    with pytest.raises(ImportFileError, match=r"The file is 1\.5 MB; the limit is 1 MB\."):
        sniff(path, filename="contacts.csv", limits=ImportLimits(max_bytes=MEGABYTE))


def test_a_file_just_over_the_size_limit_does_not_look_equal_to_it(tmp_path):
    path = write(tmp_path, b"Nom\n" + b"x" * MEGABYTE)
    with pytest.raises(ImportFileError, match=r"The file is 1\.1 MB; the limit is 1 MB\."):
        sniff(path, filename="contacts.csv", limits=ImportLimits(max_bytes=MEGABYTE))


def test_a_cell_over_the_limit_is_refused_with_its_row(tmp_path):
    path = write(tmp_path, b"Nom;Note\nDupont;ok\nMartin;" + b"x" * 52 + b"\n")
    with pytest.raises(ImportFileError, match=r"Row 3 has a cell of 52 characters; the limit is 50\."):
        read(path, limits=ImportLimits(max_cell_chars=50))


def test_a_50_megabyte_line_is_refused_without_being_held_in_memory(tmp_path):
    path = tmp_path / "contacts.csv"
    with path.open("wb") as stream:
        stream.write(b"Nom;Note\nDupont;ok\nMartin;")
        for _ in range(50):
            stream.write(b"x" * MEGABYTE)
        stream.write(b"\n")
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError, match="Row 3 is longer than 4,000,600 characters"):
            sniff(path, filename="contacts.csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * MEGABYTE


def test_a_quote_never_closed_is_refused_before_it_swallows_the_file(tmp_path):
    path = write(tmp_path, b'Nom;Note\nDupont;"oops\n' + b"Martin;fine\n" * 100)
    with pytest.raises(ImportFileError, match=r"Row 2 is longer than .* quote that is never closed"):
        read(path, limits=ImportLimits(max_columns=2, max_cell_chars=100))


def test_a_binary_file_is_not_csv(tmp_path):
    with pytest.raises(ImportFileError, match="binary file, not CSV"):
        sniff(write(tmp_path, b"Nom;Ville\x00\x01\x02"), filename="contacts.csv")


def test_a_bad_byte_after_the_sample_names_its_row(tmp_path):
    # The first megabyte is plain ASCII, so the file is taken for UTF-8; row 40,002 is not.
    rows = b"".join(b"person%05d;Brest;29200;ok\n" % number for number in range(40_000))
    path = write(tmp_path, b"Nom;Ville;Code;Note\n" + rows + "Le Goff;Brest;29200;Hélène\n".encode("cp1252"))
    found = sniff(path, filename="contacts.csv")
    assert found.encoding == "utf-8"
    with pytest.raises(
        ImportFileError, match=r"Row 40,002 has characters that cannot be read .* save the file as CSV UTF-8"
    ):
        list(iter_rows(path, sniffed=found))


def test_a_file_whose_columns_changed_since_the_upload_is_refused(tmp_path):
    path = write(tmp_path, b"Nom;Ville\nDupont;Brest\n")
    found = sniff(path, filename="contacts.csv")
    path.write_bytes(b"Ville;Nom\nBrest;Dupont\n")
    with pytest.raises(ImportFileError, match="has changed since it was uploaded"):
        list(iter_rows(path, sniffed=found))


@pytest.mark.parametrize("filename", ["contacts.xls", "contacts.pdf", "contacts", "contacts.csv.exe"])
def test_an_unsupported_extension_is_refused_naming_the_formats(tmp_path, filename):
    path = write(tmp_path, b"Nom\nDupont\n")
    with pytest.raises(ImportFileError, match=r"upload a CSV \(\.csv, \.txt\) or Excel \(\.xlsx\) file"):
        sniff(path, filename=filename)


def test_the_extension_is_read_ignoring_case(tmp_path):
    assert sniff(write(tmp_path, b"Nom\nDupont\n"), filename="CONTACTS.CSV").format == "csv"


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_a_csv_written_by_the_csv_module_reads_back_the_same(tmp_path, data):
    header_text = st.text(st.characters(exclude_characters=';,\t|"\r\n\x00', exclude_categories=["Cs"]), min_size=1)
    headers = data.draw(
        st.lists(
            header_text.map(str.strip).filter(bool), min_size=2, max_size=6, unique_by=lambda name: name.casefold()
        )
    )
    cell = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=20).map(str.strip)
    row = st.lists(cell, min_size=1, max_size=8).filter(any)
    rows = data.draw(st.lists(row, max_size=10))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(headers)
    writer.writerows(rows)
    path = write(tmp_path, buffer.getvalue().encode())
    found, read_rows = read(path)
    assert (found.delimiter, found.headers) == (";", headers)
    assert read_rows == list(enumerate(rows, start=2))


# --- XLSX ---------------------------------------------------------------------


def test_a_real_spreadsheet_with_dates_numbers_and_blanks(tmp_path):
    path = xlsx(
        tmp_path,
        [
            ["Nom", " Prénom ", "Naissance", "Code postal", "Montant", "Adhérent", "Rendez-vous"],
            ["Dupont", "Hélène", datetime.date(1980, 12, 31), 29200, 12.5, True, datetime.datetime(2024, 3, 1, 10, 30)],
            [],
            ["  Le Goff ", None, datetime.datetime(1975, 1, 2), 1000.0, 0.1 + 0.2, False, None],
        ],
    )
    found, rows = read(path, filename="contacts.xlsx")
    assert (found.format, found.encoding, found.delimiter) == ("xlsx", "", "")
    assert found.headers == ["Nom", "Prénom", "Naissance", "Code postal", "Montant", "Adhérent", "Rendez-vous"]
    assert rows == [
        (2, ["Dupont", "Hélène", "1980-12-31", "29200", "12.5", "true", "2024-03-01T10:30:00"]),
        (4, ["Le Goff", "", "1975-01-02", "1000", "0.3", "false", ""]),
    ]
    assert found.preview == [cells for _, cells in rows]


def test_a_spreadsheet_stored_under_another_name_is_read(tmp_path):
    path = xlsx(tmp_path, [["Nom"], ["Dupont"]], name="upload-1234")
    _, rows = read(path, filename="contacts.xlsx")
    assert rows == [(2, ["Dupont"])]


def test_a_spreadsheet_has_no_ragged_rows_only_empty_cells(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Nom", "Ville", "Code"])
    sheet.append(["Dupont"])
    sheet["E3"] = ""  # formatting past the last column, no value
    sheet["A3"] = "Martin"
    sheet.append(["Durand", "Brest", "29200", "surprise"])
    sheet["F1"].number_format = "0.00"  # a styled, empty header cell
    path = tmp_path / "contacts.xlsx"
    workbook.save(path)
    found, rows = read(path, filename="contacts.xlsx")
    assert found.headers == ["Nom", "Ville", "Code"]
    assert rows == [
        (2, ["Dupont", "", ""]),
        (3, ["Martin", "", ""]),
        (4, ["Durand", "Brest", "29200", "surprise"]),
    ]


def test_the_active_worksheet_is_read(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Ignored"])
    second = workbook.create_sheet("Contacts")
    second.append(["Nom"])
    second.append(["Dupont"])
    workbook.active = second
    path = tmp_path / "contacts.xlsx"
    workbook.save(path)
    found, rows = read(path, filename="contacts.xlsx")
    assert (found.headers, rows) == (["Nom"], [(2, ["Dupont"])])


def test_an_empty_spreadsheet_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="The file is empty"):
        sniff(xlsx(tmp_path, []), filename="contacts.xlsx")


def test_a_spreadsheet_cell_over_the_limit_is_refused(tmp_path):
    path = xlsx(tmp_path, [["Nom"], ["x" * 30]])
    with pytest.raises(ImportFileError, match=r"Row 2 has a cell of 30 characters; the limit is 20\."):
        sniff(path, filename="contacts.xlsx", limits=ImportLimits(max_cell_chars=20))


def test_an_xlsx_that_is_not_a_zip_is_refused(tmp_path):
    path = write(tmp_path, b"Nom;Ville\nDupont;Brest\n", name="contacts.xlsx")
    with pytest.raises(ImportFileError, match=r"not a valid \.xlsx spreadsheet"):
        sniff(path, filename="contacts.xlsx")


def test_a_broken_zip_is_refused(tmp_path):
    path = write(tmp_path, b"PK\x03\x04" + b"\x00" * 200, name="contacts.xlsx")
    with pytest.raises(ImportFileError, match=r"not a valid \.xlsx spreadsheet"):
        sniff(path, filename="contacts.xlsx")


def test_a_zip_that_is_not_a_spreadsheet_is_refused(tmp_path):
    path = tmp_path / "contacts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ImportFileError, match="could not be read safely: it seems damaged"):
        sniff(path, filename="contacts.xlsx")


def test_a_zip_bomb_is_refused_before_it_is_opened(tmp_path):
    path = tmp_path / "contacts.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * MEGABYTE)
    with pytest.raises(ImportFileError, match=r"could not be read safely: “xl/worksheets/sheet1\.xml” is compressed"):
        sniff(path, filename="contacts.xlsx", limits=ImportLimits(max_xlsx_ratio=10))


def test_a_spreadsheet_too_big_once_expanded_is_refused(tmp_path):
    path = xlsx(tmp_path, [["Nom"], ["Dupont"]])
    with pytest.raises(ImportFileError, match="expands to more than"):
        sniff(path, filename="contacts.xlsx", limits=ImportLimits(max_xlsx_uncompressed=1000))


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10 if level > 1 else "&lol;" * 10}">' for level in range(1, 10)
    )
    + "]>"
)


SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _with_entity_bomb(xml):
    declaration_end = xml.index("?>") + 2 if xml.startswith("<?xml") else 0
    xml = xml[:declaration_end] + BILLION_LAUGHS + xml[declaration_end:]
    return xml.replace("<t>Dupont</t>", "<t>&lol9;</t>")


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"])
def test_an_xml_entity_bomb_is_refused(tmp_path, member):
    path = xlsx(tmp_path, [["Nom"], ["Dupont"]])
    rewrite_member(path, member, _with_entity_bomb)
    with pytest.raises(ImportFileError, match="could not be read safely: it contains XML declarations"):
        read(path, filename="contacts.xlsx")


def test_an_xml_entity_bomb_in_the_shared_strings_is_refused(tmp_path):
    path = xlsx(tmp_path, [["Nom"], ["Dupont"]])
    use_shared_strings(
        path, f'<?xml version="1.0"?>{BILLION_LAUGHS}<sst xmlns="{SPREADSHEET_NS}"><si><t>&lol9;</t></si></sst>'
    )
    with pytest.raises(ImportFileError, match="could not be read safely: it contains XML declarations"):
        read(path, filename="contacts.xlsx")


def test_shared_strings_are_read(tmp_path):
    """The same file without the bomb reads: what the test above refuses is the bomb alone."""
    path = xlsx(tmp_path, [["Nom"], ["Dupont"]])
    use_shared_strings(path, f'<sst xmlns="{SPREADSHEET_NS}"><si><t>Le Goff</t></si></sst>')
    assert read(path, filename="contacts.xlsx")[1] == [(2, ["Le Goff"])]


def use_shared_strings(path, table):
    """Make A2 point into a shared strings table, as Excel writes them (openpyxl writes strings inline)."""
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", table)
    override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/>'
    rewrite_member(path, "[Content_Types].xml", lambda xml: xml.replace("</Types>", override + "</Types>"))
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace('<c r="A2" t="inlineStr"><is><t>Dupont</t></is></c>', '<c r="A2" t="s"><v>0</v></c>'),
    )
