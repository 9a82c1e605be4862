"""Tests of the record linkage; plain pytest functions, no Django."""
