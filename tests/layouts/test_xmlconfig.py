"""Patterns read from real-shaped log4j2.xml and logback.xml files."""

from __future__ import annotations

import pytest

from logsleuth.errors import InputError, PatternError
from logsleuth.layouts import compile_pattern, patterns_from_log4j2_xml, patterns_from_logback_xml

LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Properties>
    <Property name="LOG_PATTERN">%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c{1.} - %m%n</Property>
    <Property name="APP" value="chat"/>
  </Properties>
  <Appenders>
    <Console name="Console" target="SYSTEM_OUT">
      <PatternLayout pattern="${LOG_PATTERN}"/>
    </Console>
    <RollingFile name="File" fileName="logs/${APP}.log" filePattern="logs/${APP}-%i.log.gz">
      <PatternLayout>
        <Pattern>%d [%t] %-5level %logger{36} [${APP}] - %msg%n</Pattern>
      </PatternLayout>
    </RollingFile>
    <Appender type="File" name="Strict" fileName="x.log">
      <Layout type="PatternLayout" pattern="%d %p ${sys:unset:-none} %m%n"/>
    </Appender>
    <File name="Json" fileName="x.json"><JsonTemplateLayout/></File>
  </Appenders>
  <Loggers><Root level="info"><AppenderRef ref="Console"/></Root></Loggers>
</Configuration>
"""

LOGBACK = """<configuration>
  <property name="PAT" value="%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n"/>
  <variable name="WRAPPED" value="[${PAT}]"/>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>${PAT}</pattern></encoder>
  </appender>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <encoder class="ch.qos.logback.core.encoder.LayoutWrappingEncoder">
      <layout class="ch.qos.logback.classic.PatternLayout"><pattern>%d %-5p %m%n</pattern></layout>
    </encoder>
  </appender>
  <appender name="JSON" class="ch.qos.logback.core.FileAppender">
    <encoder class="net.logstash.logback.encoder.LogstashEncoder"/>
  </appender>
  <appender name="ASYNC" class="ch.qos.logback.classic.AsyncAppender">
    <appender-ref ref="FILE"/>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"""


def test_log4j2_patterns_with_properties(tmp_path):
    path = tmp_path / "log4j2.xml"
    path.write_text(LOG4J2)
    got = patterns_from_log4j2_xml(path)
    assert got == [
        ("Console", "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c{1.} - %m%n"),
        ("File", "%d [%t] %-5level %logger{36} [chat] - %msg%n"),
        ("Strict", "%d %p none %m%n"),
    ]
    for _, pattern in got:
        compile_pattern(pattern)


def test_logback_patterns_with_properties(tmp_path):
    path = tmp_path / "logback.xml"
    path.write_text(LOGBACK)
    assert patterns_from_logback_xml(path) == [
        ("STDOUT", "%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n"),
        ("FILE", "%d %-5p %m%n"),
    ]


def test_logback_spring_include_supplies_boot_patterns(tmp_path):
    path = tmp_path / "logback-spring.xml"
    path.write_text("""<configuration>
  <include resource="org/springframework/boot/logging/logback/defaults.xml"/>
  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>${CONSOLE_LOG_PATTERN}</pattern></encoder>
  </appender>
</configuration>""")
    [(name, pattern)] = patterns_from_logback_xml(path)
    layout = compile_pattern(pattern, flavor="logback")
    assert name == "CONSOLE" and "pid" in layout.fields


def test_malformed_xml_is_located(tmp_path):
    path = tmp_path / "log4j2.xml"
    path.write_text("<Configuration>\n  <Appenders>\n    <Console name='x'>\n  </Appenders>\n")
    with pytest.raises(InputError) as info:
        patterns_from_log4j2_xml(path)
    loc = info.value.diagnostic.location
    assert (loc.path, loc.line) == (str(path), 4)
    assert info.value.diagnostic.code == "LAYOUT010"


def test_missing_pattern_is_located(tmp_path):
    path = tmp_path / "logback.xml"
    path.write_text("<configuration>\n<appender name='A' class='x'>\n"
                    "  <encoder>\n  </encoder>\n</appender>\n</configuration>\n")
    with pytest.raises(PatternError) as info:
        patterns_from_logback_xml(path)
    assert info.value.diagnostic.location.line == 3
    assert info.value.diagnostic.code == "LAYOUT011"
    path2 = tmp_path / "log4j2.xml"
    path2.write_text("<Configuration><Appenders>\n<Console name='C'>\n<PatternLayout/>"
                     "</Console></Appenders></Configuration>")
    with pytest.raises(PatternError) as info2:
        patterns_from_log4j2_xml(path2)
    assert info2.value.diagnostic.location.line == 3 and "'C'" in info2.value.diagnostic.message


def test_unresolved_property_is_located(tmp_path):
    path = tmp_path / "logback.xml"
    path.write_text("<configuration>\n<appender name='A' class='x'><encoder>\n"
                    "<pattern>${NOPE} %m%n</pattern></encoder></appender></configuration>")
    with pytest.raises(PatternError) as info:
        patterns_from_logback_xml(path)
    assert info.value.diagnostic.location.line == 3
    assert "NOPE" in info.value.diagnostic.message
