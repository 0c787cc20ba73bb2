"""`python -m explainbench.api.schemas`: rewrite the shipped JSON Schema files from the models."""

from explainbench.api.schemas import write_schema_files

for written in write_schema_files():
    print(written)
