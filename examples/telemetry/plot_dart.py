#!/usr/bin/python3
"""Plots dart_eval's CSV: query failure rate (1 - success) of DART path tracing against collector
memory per flow, one panel per slot layout, one colour per redundancy N; markers are the
simulation, lines the analytical model (key_write_mean_success_probability). A star marks the
best N of each budget. Failure is drawn on a log axis, so the 99.9% goal is the line at 1e-3;
a point with no failure at all is drawn at half a failure (0.5 / flows), hollow.

    telemetry_dart_eval --csv dart.csv
    /usr/bin/python3 plot_dart.py dart.csv [dart.png]
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    source = argv[1]
    target = argv[2] if len(argv) > 2 else source.rsplit(".", 1)[0] + ".png"
    layouts = {}
    with open(source, newline="") as f:
        for row in csv.DictReader(f):
            key = (int(row["slot_bytes"]), int(row["checksum_bits"]), int(row["id_bytes"]))
            layouts.setdefault(key, {}).setdefault(int(row["redundancy"]), []).append(row)

    cols = min(2, len(layouts))
    rows = (len(layouts) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.8 * rows), sharey=True,
                             squeeze=False)
    panels = [ax for row in axes for ax in row]
    for ax in panels[len(layouts):]:
        ax.set_visible(False)
    floor = 1.0
    for ax, ((slot, bits, ids), by_n) in zip(panels, sorted(layouts.items())):
        cmap = plt.get_cmap("viridis", max(by_n) + 1)
        for n, rows in sorted(by_n.items()):
            rows.sort(key=lambda r: float(r["bytes_per_flow"]))
            x = [float(r["bytes_per_flow"]) for r in rows]
            flows = [int(r["flows"]) for r in rows]
            sim = [1 - float(r["simulated_success"]) for r in rows]
            model = [max(1 - float(r["analytic_success"]), 1e-12) for r in rows]
            colour = cmap(n - 1)
            ax.plot(x, model, "-", color=colour, alpha=0.8, label=f"N={n}")
            for xi, si, fi, best in zip(x, sim, flows, [r["best"] == "1" for r in rows]):
                half = 0.5 / fi
                floor = min(floor, half)
                y = si if si > 0 else half
                face = colour if si > 0 else "none"
                ax.plot([xi], [y], "o", color=colour, markerfacecolor=face, markersize=5)
                if best:
                    ax.plot([xi], [y], "*", color="black", markersize=11, markerfacecolor="none")
        ax.axhline(1e-3, color="red", linestyle="--", linewidth=1)
        ax.axvline(300, color="grey", linestyle=":", linewidth=1)
        ax.text(300, 1.5e-3, " 99.9% goal, 300 B/flow", color="red", fontsize=8)
        ax.set(xscale="log", yscale="log", xlabel="collector memory per flow (bytes)",
               title=f"{slot} B slots: {bits}-bit checksum, 5 x {ids}-byte switch ids")
        ax.grid(True, which="both", alpha=0.3)
    for row in axes:
        row[0].set_ylabel("query failure rate (1 - success)")
    axes[0][0].set_ylim(bottom=floor / 2, top=1)
    axes[0][0].legend(fontsize=8, loc="lower left", title="line: model, dot: simulated",
                      title_fontsize=8)
    fig.suptitle("DART INT path tracing on a fat tree: Key-Write query failure vs memory\n"
                 "(star: best N per budget; hollow: no failure seen)")
    fig.tight_layout()
    fig.savefig(target, dpi=120)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
