from borderpass.cli import app

app()
