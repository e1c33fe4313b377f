"""The scoring kernel: each rule kind defined once, run exactly in Python or compiled to SQL."""
