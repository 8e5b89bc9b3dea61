"""Data quality: GE expectations from config, clean/quarantine split, Data Docs, and the gate.

``expectations`` (specs -> GE objects + Spark row predicates), ``validate`` (validate_table),
``docs`` (build_data_docs), ``gate`` (check_quality).
"""
