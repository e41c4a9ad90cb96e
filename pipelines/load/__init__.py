"""Loading an extract: read the files, protect identifiers, type the values, validate with Great
Expectations, and write the accepted rows and the quarantine as one snapshot."""
