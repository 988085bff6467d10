"""Blameless-language lint for postmortem text.

A finding names a phrase that puts a person, a counterfactual or hindsight where the
postmortem should describe conditions, with a suggested rewrite that names the
condition, never the person. Whether a postmortem may be published with findings is
decided elsewhere (it needs a recorded override); this package only finds.

- ``vocabulary``: the words the rules are made of (pronouns, roles and groups, blame
  verbs, participles) and how sure a subject is to be a person;
- ``suggestions``: the rewrites a finding suggests;
- ``rules``: the three rules (blame, counterfactual, hindsight), each pattern with where
  it runs and when a match counts;
- ``scan``: running the patterns over a text or a whole postmortem (``lint``,
  ``lint_document``) and reporting findings with their places.
"""

from warroom.domain.learning.blameless.rules import Rule
from warroom.domain.learning.blameless.scan import Finding, lint, lint_document

__all__ = ["Finding", "Rule", "lint", "lint_document"]
