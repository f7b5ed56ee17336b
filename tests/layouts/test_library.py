"""Built-in layouts load, and their samples really parse; bad files fail located."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from logsleuth.errors import PatternError
from logsleuth.layouts import CompiledLayout, JsonLayout, layout_from_yaml, load_builtin_layouts
from logsleuth.layouts.library import load_layouts

REQUIRED = {
    "log4j2-default": "%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n",
    "log4j2-file": "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c{1.} - %m%n",
    "logback-default": "%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n",
    "log4j1-iso8601": "%d{ISO8601} %-5p [%t] %c - %m%n",
    "log4j1-ttcc": "%-4r [%t] %-5p %c %x - %m%n",
    "log4j1-date": "%d [%t] %-5p %c - %m%n",
    "spring-boot-3": "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %5p ${PID} --- [%15.15t] "
                     "%-40.40logger{39} : %m%n",
}


def test_builtins_load_with_required_layouts():
    layouts = {layout.name: layout for layout in load_builtin_layouts(check=True)}
    for name, pattern in REQUIRED.items():
        layout = layouts[name]
        assert isinstance(layout, CompiledLayout) and layout.pattern == pattern
    json_names = {n for n, lay in layouts.items() if isinstance(lay, JsonLayout)}
    assert {"log4j2-jsonlayout", "ecs", "log4j2-logstash-v1",
            "logback-logstash-encoder"} <= json_names
    assert {"spring-boot-2-console", "spring-boot-2-file", "spring-boot-3-2"} <= set(layouts)


def _builtin_files():
    root = resources.files("logsleuth.layouts") / "builtin"
    return sorted(e.name for e in root.iterdir() if e.name.endswith(".yaml"))


@pytest.mark.parametrize("filename", _builtin_files())
def test_each_builtin_has_unique_name_and_samples(filename):
    text = (resources.files("logsleuth.layouts") / "builtin" / filename).read_text()
    data = yaml.safe_load(text)
    assert filename == f"{data['name']}.yaml"
    assert len(data["samples"]) >= 2
    layout_from_yaml(text, filename)  # raises when a sample does not parse


def test_adding_a_file_is_enough(tmp_path):
    (tmp_path / "custom.yaml").write_text(
        'name: custom\ndescription: d\npattern: "%d %p %m%n"\n'
        'samples:\n  - "2024-03-11 14:07:52,117 INFO hi"\n  - "2024-03-11 14:07:53,000 WARN x"\n')
    [layout] = load_layouts(tmp_path)
    assert layout.name == "custom"


BAD_SAMPLE = """name: broken
description: sample with the wrong level position
flavor: log4j2
pattern: "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c - %m%n"
samples:
  - "2024-03-11 14:07:52.117 INFO  [main] a.B - ok"
  - "2024-03-11 14:07:52.117 [main] INFO  a.B - wrong order"
"""


def test_failing_sample_is_located():
    with pytest.raises(PatternError) as info:
        layout_from_yaml(BAD_SAMPLE, "builtin/broken.yaml")
    diag = info.value.diagnostic
    assert (diag.location.path, diag.location.line, diag.code) == (
        "builtin/broken.yaml", 7, "LAYOUT021")
    assert "sample 2" in diag.message


def test_wrong_expectation_fails():
    text = BAD_SAMPLE.replace('  - "2024-03-11 14:07:52.117 [main] INFO  a.B - wrong order"\n',
                              '  - line: "2024-03-11 14:07:52.117 WARN  [main] a.B - x"\n'
                              '    expect: {level: ERROR}\n')
    with pytest.raises(PatternError, match="expected level='ERROR', got 'WARN'"):
        layout_from_yaml(text, "x.yaml")


@pytest.mark.parametrize(("text", "line"), [
    ("name: x\ndescription: d\npattern: '%d %p'\nsamples: []\n", 4),
    ("name: x\ndescription: d\nbogus: 1\npattern: '%d'\nsamples: ['a', 'b']\n", 1),
    ("name: x\ndescription: d\npattern: '%d %bogus'\nsamples: ['a', 'b']\n", 3),
    ("name: [x\n", 2),
])
def test_schema_and_pattern_errors_are_located(text, line):
    with pytest.raises(PatternError) as info:
        layout_from_yaml(text, "x.yaml")
    assert info.value.diagnostic.location.line == line


def test_builtins_load_alike_checked_or_not():
    """A scan loads the package's layouts unchecked (the tests above check them): the
    layouts must be the same objects either way, beside-only ones included."""
    assert load_builtin_layouts(beside=True) == load_builtin_layouts(beside=True, check=True)
    assert load_builtin_layouts() == load_builtin_layouts(check=True)
