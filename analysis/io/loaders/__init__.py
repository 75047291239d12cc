"""Format readers that turn export files into raw (all-text) tables named after the canonical ones.

``canonical`` reads files already laid out as the canonical tables (CSV / TSV / TXT / Parquet);
other readers (xlsx with a column mapping, FINESS extraction, FHIR) live beside it. Readers only
read: checking values and typing them is ``analysis.io.validate``'s job.
"""

from analysis.io.loaders.canonical import RawTable, read_source_dir, read_table_file

__all__ = ["RawTable", "read_source_dir", "read_table_file"]
