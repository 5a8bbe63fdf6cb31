"""`python -m benchmarks --only training`: its table, its goals and its CSV, on a
made-up report (the run itself takes minutes; no timing is asserted)."""

from benchmarks import optimizers
from nnsym import api


def test_study_table_prints_every_row_and_judges_the_goals():
    report = {
        "study": [
            {
                "problem": "xor 2-2-1",
                "optimizer": "lm",
                "learned": 76,
                "seeds": 100,
                "median_iterations": 10,
                "seconds": 1.5,
            },
            {
                "problem": "xor 2-2-1",
                "optimizer": "sgd",
                "learned": 0,
                "seeds": 100,
                "median_iterations": None,
                "seconds": 9.0,
            },
        ],
        "sklearn": [
            {
                "data": "iris",
                "arch": "4-8-3",
                "sklearn lbfgs": (0.9, 0.1),
                "sklearn adam": (0.95, 0.2),
                "nnsym defaults": (0.95, 0.1, "c"),
                "nnsym lbfgs": (0.9, 1.0, "python"),
            },
            {
                "data": "x.csv",
                "arch": "30-16-2",
                "sklearn lbfgs": (0.97, 0.1),
                "sklearn adam": (0.95, 0.2),
                "nnsym defaults": (0.9, 0.1, "c"),
                "nnsym lbfgs": (0.99, 1.0, "c"),
            },
        ],
    }
    table = optimizers.study_table(report)
    assert "xor 2-2-1   lm           76/100      10    1.50s" in table
    assert "76%, median 10: met" in table
    assert "sgd           0/100       -" in table
    assert "nnsym defaults 95.0% (0.10s, c)" in table
    lines = table.splitlines()
    # The defaults are judged, not the best of nnsym's optimizers.
    verdicts = [line for line in lines if "goal: nnsym's defaults" in line]
    assert [v.split(": ")[-1] for v in verdicts] == ["matches", "BELOW"]


def test_the_benchmark_csv_is_500_by_30_with_two_classes(tmp_path):
    path = tmp_path / "two.csv"
    optimizers._two_class_csv(path)
    dataset = api.load_data(str(path), api.make_spec("30-4-2", loss="ce"))
    assert len(dataset) == 500 and len(dataset.xs[0]) == 30
    assert sorted(dataset.classes) == ["0", "1"]
    assert 150 < sum(y[1] for y in dataset.ys) < 350


def test_the_process_table_takes_the_faster_peer_and_judges_the_goal():
    from benchmarks import process

    result = {
        "rounds": 5,
        "sklearn default": {"seconds": 1.6, "accuracy": "1.000"},
        "sklearn 16": {"seconds": 1.2, "accuracy": "0.950"},
        "nnsym warm": {"seconds": 2.4, "accuracy": "100%", "engine": "c"},
        "nnsym cold": {"seconds": 6.0, "accuracy": "100%", "engine": "c"},
        "nnsym python": {"seconds": 9.0, "accuracy": "99.8%", "engine": "python"},
    }
    table = process.process_table(result)
    assert " 2.00x  engine c" in table and " 7.50x  engine python" in table
    warm, cold = table.splitlines()[-2:]
    assert warm.startswith("  goal: warm") and warm.endswith("2.00x, met")
    assert cold.startswith("  goal: a first run") and cold.endswith("5.00x, NOT met")
    result["nnsym warm"]["seconds"] = 3.1
    result["nnsym cold"]["seconds"] = 2.9
    warm, cold = process.process_table(result).splitlines()[-2:]
    assert warm.endswith("2.58x, NOT met") and cold.endswith("2.42x, met")
