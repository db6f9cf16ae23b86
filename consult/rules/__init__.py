"""Consultation's pure rules: no I/O, no database; tested against hand-worked examples.

- `comments`: what a comment's text may hold, and threads put together from a page of
  comments and their replies;
- `opinion`: common ground, opinion groups and divisive statements of a deliberation round
  (`clustering`: PCA, seeded k-means and silhouette, with numpy);
- `recurrence`: meetings' recurrence rules, bounded and expanded in the district's time zone;
- `ratification`: whether a convention is ratified (turnout and majority, abstentions);
- `textdiff`: a word diff of two versions of a clause (Chinese per character).
"""
