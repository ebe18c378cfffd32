"""The core: parameters, secrets, YAML files and paths. Imports nothing of idbridge above it.

    csvsafe.py     Every CSV idbridge writes, written here: safe to open in a spreadsheet (formula injection)
    facts.py       Facts about the real clouds that the library and the sandbox both rely on: one place, owned by the…
    files.py       Writing files so that a reader never sees half of one: beside, then renamed into place
    parameters.py  Engagement parameters: one YAML file per engagement, validated before any call is made
    paths.py       Where the project's own files are: notebooks, scenarios and parameters live beside the package in…
    secrets.py     Secrets: one grammar for references, one resolver registry by scheme, and redaction
    vocabulary.py  The words idbridge writes in many places, defined once: finding severities (their order and…
    yamlfile.py    Load YAML input files so that every error can name the file, the line and the key
"""
