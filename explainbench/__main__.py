"""`python -m explainbench`: the same CLI as the `explainbench` command (torchrun launches it so)."""

from explainbench.cli.main import main

if __name__ == "__main__":
    main()
