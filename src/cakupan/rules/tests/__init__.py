"""Tests of the rules engine; plain pytest functions, no Django."""
