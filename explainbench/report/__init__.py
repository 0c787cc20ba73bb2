"""The reporter: the paper's tables and figures, the HTML report and the leaderboard, from results files.

It reads results.json, samples.jsonl and train_log.jsonl only; it never trains or generates. One module
per job: tables.py (the Table model and its renderers), table1.py, table2.py, ablation.py (Table 3),
examples.py (Table 4), plots.py and figures.py (Figures 5 and 6), html.py (the report page),
leaderboard.py, sources.py (where runs are found), clidoc.py (docs/cli.md). See docs/reporting.md.
"""
