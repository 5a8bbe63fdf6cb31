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
                "nnsym lbfgs": (0.95, 1.0),
            },
            {
                "data": "x.csv",
                "arch": "30-16-2",
                "sklearn lbfgs": (0.97, 0.1),
                "sklearn adam": (0.95, 0.2),
                "nnsym lbfgs": (0.9, 1.0),
            },
        ],
    }
    table = optimizers.study_table(report)
    assert "xor 2-2-1   lm           76/100      10    1.50s" in table
    assert "76%, median 10: met" in table
    assert "sgd           0/100       -" in table
    lines = table.splitlines()
    verdicts = [line for line in lines if "goal: nnsym's best" in line]
    assert [v.split(": ")[-1] for v in verdicts] == ["matches", "BELOW"]


def test_the_benchmark_csv_is_500_by_30_with_two_classes(tmp_path):
    path = tmp_path / "two.csv"
    optimizers._two_class_csv(path)
    dataset = api.load_data(str(path), api.make_spec("30-4-2", loss="ce"))
    assert len(dataset) == 500 and len(dataset.xs[0]) == 30
    assert sorted(dataset.classes) == ["0", "1"]
    assert 150 < sum(y[1] for y in dataset.ys) < 350
