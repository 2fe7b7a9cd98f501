from amwgen.entry import run

run()
