"""Turn a project folder into one offline HTML bundle per rater."""

__version__ = "0.1.0"
