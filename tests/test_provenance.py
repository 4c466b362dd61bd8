"""Every result carries where it came from: the provenance line read from the records."""

import pandas as pd

from mufno_core.provenance import provenance_line


def test_provenance_line_reads_the_records():
    df = pd.DataFrame({"preset": "quick", "seed": [0, 1, 0], "modes": [3, 3, 8],
                       "mirrored": [False, False, True], "device": "cpu", "cpu_model": "Xeon X",
                       "device_name": "x86_64", "torch_version": "2.13.0", "code_commit": "abc",
                       "wall_time": [60.0, 60.0, 60.0]})
    line = provenance_line(df)
    assert line.startswith("Source: 2 trials of the quick preset (2 seeds, K 3)")
    assert "Xeon X" in line and "torch 2.13.0" in line and "code abc" in line and "2.0 core-min" in line
