"""Parsers for application logs and structured JVM evidence."""
