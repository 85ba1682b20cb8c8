"""The study as one re-runnable recipe (a TOML file), and the lineage of what it made.

recipe.py        read a recipe (one-sentence errors naming the key and line) and write one
recipe_model.py  the recipe as data: one dataclass per section, its steps' names
runner.py        ``python -m core study run RECIPE``: the steps in order, reusing what is unchanged
export.py        ``python -m core study export --out RECIPE``: the recipe of what was made by clicking
diff.py          ``python -m core study diff A B``: two runs or two recipes side by side
lineage.py       the recipe step and input fingerprints every run, evaluation and export records
launch.py        the app's background run of a recipe (the same command, in a subprocess)
"""
