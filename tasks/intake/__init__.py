"""Intake (申报受理): rows in — from an application workbook or from Python callers — applications out.

Owns: the column vocabulary of the forms (fields), reading cells with their units (cells) and sheets
(sheet; xlsx_stream reads large ones row by row), place names (places); reading rows into the one
typed ``IntakeRecord`` (workbook_rows, mapping_rows; record), the one ``Problem`` every check reports
(problem), the checks against the call and the database (admission), the one validator that runs
each check once (validator); the set-based writer of enterprises, yearly figures, applications and
their 'submit' (applications); the workbook import, checked chunk by chunk with the valid records set
aside (workbook_check, spill), with its error workbook (workbook_import, error_workbook), the blank
template (template) and a 名单 of credit codes read from a file (code_list).

Imports point one way: problem, record ← admission, workbook_rows ← mapping_rows ← validator ←
workbook_check, applications ← workbook_import.
"""
