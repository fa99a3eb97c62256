#!/usr/bin/python3
"""Plots disketch_eval's CSV: per-flow ARE, heavy-hitter F1 and export volume against mean
residual memory per switch, baseline vs DiSketch (spatial: one hop per flow; partition and
sample sub-epochs with every hop counting).

    sketch_disketch_eval --csv disketch.csv
    /usr/bin/python3 plot_disketch.py disketch.csv [disketch.png]
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "baseline": "baseline: one sketch per switch, best switch on path",
    "disketch_spatial": "DiSketch, spatial (one hop per flow)",
    "disketch_partition": "DiSketch, partition sub-epochs",
    "disketch_sample": "DiSketch, sampled sub-epochs",
}
STYLES = {
    "baseline": "o-",
    "disketch_spatial": "D-",
    "disketch_partition": "s--",
    "disketch_sample": "^-",
}


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    source = argv[1]
    target = argv[2] if len(argv) > 2 else source.rsplit(".", 1)[0] + ".png"
    series = {}
    with open(source, newline="") as f:
        for row in csv.DictReader(f):
            series.setdefault(row["method"], []).append(row)

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for method, rows in series.items():
        kb = [float(r["memory_per_switch_bytes"]) / 1024 for r in rows]
        label = LABELS.get(method, method)
        style = STYLES.get(method, ".-")
        axes[0].plot(kb, [float(r["are"]) for r in rows], style, label=label)
        axes[1].plot(kb, [float(r["hh_f1"]) for r in rows], style, label=label)
        axes[2].plot(kb, [float(r["exported_bytes_per_epoch"]) / 1024 for r in rows], style,
                     label=label)
    axes[0].set(xscale="log", yscale="log", ylabel="ARE (per-flow packet count)",
                title="Frequency error")
    axes[1].set(xscale="log", ylabel="F1", ylim=(0, 1.02), title="Heavy hitters (>= 0.05%)")
    axes[2].set(xscale="log", yscale="log", ylabel="KB exported per epoch (all switches)",
                title="Export volume")
    for ax in axes:
        ax.set_xlabel("mean residual memory per switch (KB)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    first = next(iter(series.values()))[0]
    sketch = {"count_min": "Count-Min", "count_sketch": "Count Sketch"}.get(
        first.get("sketch", ""), first.get("sketch", "?"))
    widths = "power-of-two widths" if first.get("widths") == "pow2" else "any width"
    fig.suptitle(f"DiSketch vs per-switch sketches: k=4 fat tree, {sketch}, DiSketch {widths}, "
                 "equal switch memory")
    fig.tight_layout()
    fig.savefig(target, dpi=120)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
