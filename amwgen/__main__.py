from amwgen.cli import run

run()
