from keyaudit.cli import app

app()
