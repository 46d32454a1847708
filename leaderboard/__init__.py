"""The Django app: test sets, submissions, results, pages, API and admin."""
