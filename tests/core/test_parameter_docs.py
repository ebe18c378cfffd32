"""The check thresholds as the README and the parameters template tell them are the ones the code uses."""

from __future__ import annotations

import re

import yaml

from idbridge.core.parameters import ChecksParams
from idbridge.core.paths import REPO_ROOT


def test_template_checks_block_uncommented_is_the_defaults():
    text = (REPO_ROOT / "parameters" / "engagement.template.yaml").read_text(encoding="utf-8")
    block = text[text.index("# checks:"):].splitlines()
    document = yaml.safe_load("\n".join(line.removeprefix("# ") for line in block if line.startswith("# ")))
    assert set(document["checks"]) == set(ChecksParams.model_fields)  # every threshold is there
    assert ChecksParams.model_validate(document["checks"]) == ChecksParams()


def test_readme_names_every_threshold_with_its_default():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Check thresholds"):]
    rows = dict(re.findall(r"^\| `checks\.(\w+)` \| ([^|]+) \|", section, re.M))
    assert set(rows) == set(ChecksParams.model_fields)
    defaults = ChecksParams()
    for name, shown in rows.items():
        value = getattr(defaults, name)
        if isinstance(value, int | float | list) and not isinstance(value, bool) and value != []:
            assert yaml.safe_load(shown.strip().strip("`")) == value, name
        elif value in (None, []):
            assert shown.strip() == "none", name
