"""The blameless lint: a corpus of blameful and neutral sentences, locations, rewrites."""

from __future__ import annotations

import time

import pytest

from warroom.domain.learning.blameless import Finding, Rule, lint, lint_document

BLAMEFUL: list[tuple[str, Rule]] = [
    # blame: a person plus blame wording
    ("Alice forgot to update the config.", "blame"),
    ("It was Bob's mistake.", "blame"),
    ("The outage was Dave's fault.", "blame"),
    ("Root cause: human error.", "blame"),
    ("The change was careless.", "blame"),
    ("The operator was negligent during the migration.", "blame"),
    ("He should have known the limit was 100.", "blame"),
    ("Carol failed to check the dashboard before deploying.", "blame"),
    ("The on-call failed to escalate.", "blame"),
    ("She didn't bother to read the runbook.", "blame"),
    ("The rollout plan was sloppy.", "blame"),
    ("Erin ignored the alert for twenty minutes.", "blame"),
    ("The engineer neglected to run the migration check.", "blame"),
    ("Someone messed up the DNS record.", "blame"),
    ("Frank dropped the ball on the certificate renewal.", "blame"),
    ("It was his fault the cache was flushed.", "blame"),
    ("They were careless with the production credentials.", "blame"),
    ("Grace made a mistake in the firewall rule.", "blame"),
    ("The developer's error took the site down.", "blame"),
    ("Heidi was to blame for the bad deploy.", "blame"),
    ("Ivan skipped the canary.", "blame"),
    ("Judy didn't check the diff.", "blame"),
    ("Dave caused the outage.", "blame"),
    ("Kevin wasn't paying attention to the rollout.", "blame"),
    ("Nobody bothered to look at the queue.", "blame"),
    ("The on-call engineer simply forgot the second region.", "blame"),
    ("The engineers forgot to drain the node.", "blame"),
    # counterfactual: modal + have + past participle, "if only", inverted conditionals
    ("We should have rolled back sooner.", "counterfactual"),
    ("Alice could have paged the database team.", "counterfactual"),
    ("If only the on-call had looked at the graph.", "counterfactual"),
    ("The engineer ought to have waited for the canary.", "counterfactual"),
    ("Had they drained the node first, nothing would have been lost.", "counterfactual"),
    ("They would have caught it with a second review.", "counterfactual"),
    ("If Bob had run the dry run, the table would be intact.", "counterfactual"),
    ("The team shouldn't have deployed on Friday.", "counterfactual"),
    ("It would have been better to fail over.", "counterfactual"),
    # "should have" judges the past whatever the subject (see the module docstring)
    ("The alert should have fired earlier.", "counterfactual"),
    ("We should've drained the queue first.", "counterfactual"),
    # hindsight
    ("Obviously the disk was going to fill.", "hindsight"),
    ("It was obvious that the certificate would expire.", "hindsight"),
    ("The fix clearly should have been a rollback.", "hindsight"),
    ("Of course they restarted the wrong pod.", "hindsight"),
    ("The on-call simply needed to restart the service.", "hindsight"),
    ("He just had to flip the flag.", "hindsight"),
    ("All they had to do was read the alert.", "hindsight"),
    ("It should have been obvious that traffic would spike.", "hindsight"),
    ("The obvious fix was a rollback.", "hindsight"),
    # blame aimed at a role or a group rather than a named person
    ("The ops team failed to check the replication lag.", "blame"),
    ("QA failed to test the rollback path.", "blame"),
    ("Management ignored the capacity warnings.", "blame"),
    ("The database team neglected to test the failover.", "blame"),
    ("Ops forgot to renew the certificate.", "blame"),
    ("The SRE team dropped the ball on the certificate.", "blame"),
    ("The platform team should have known about the quota.", "blame"),
    ("The network team's mistake took down the VPN.", "blame"),
    ("The developers ignored the failing tests.", "blame"),
    ("The site reliability team then failed to escalate.", "blame"),
    ("The DBA could have avoided the outage.", "counterfactual"),
    ("The ops team could have avoided the outage.", "counterfactual"),
    ("The ops team should never have restarted the primary.", "counterfactual"),
    ("Leadership should never have approved the Friday release.", "counterfactual"),
    ("The on-call should never have silenced the alert.", "counterfactual"),
    ("The security team could have caught the expired key.", "counterfactual"),
    ("The on-call engineer could have prevented this by rolling back.", "counterfactual"),
    ("The release manager would never have noticed the drift.", "counterfactual"),
    # blame split across two clauses: what was known, then who acted against it
    ("Everyone knows the schema is shared; Dave ran the migration anyway.", "blame"),
    ("It was obvious that the disk would fill, but the SRE went ahead.", "blame"),
    ("Everyone knew the freeze had started, yet the platform team deployed anyway.", "blame"),
    ("We all knew the cache was cold, but the on-call engineer shifted the traffic anyway.", "blame"),
    ("The DBA was told the table was locked, and she ran the migration regardless.", "blame"),
    ("It was well known that the script was fragile; QA shipped it anyway.", "blame"),
    ("Everybody knew about the quota, but management went ahead with the launch.", "blame"),
    ("Everyone knew the risk, and the alert was loud, but Erin restarted the primary anyway.", "blame"),
]

NEUTRAL: list[str] = [
    # "should" + base verb: an expectation of a system, not a counterfactual
    "The deploy should finish in five minutes.",
    "The cache should be warmed before traffic shifts.",
    "Replication lag should stay under five seconds.",
    "The team should add an alert on queue depth.",
    # "should have" + noun: possession, a norm
    "Every service should have a runbook and an owner.",
    "Every service should have automated rollback.",
    # "clearly" stating a measured fact is not hindsight
    "The error budget was clearly exceeded by 14:10.",
    # systems fail, miss, skip and cause; that is not blame
    "The deploy failed to complete because the registry timed out.",
    "Kubernetes failed to schedule the new pods.",
    "Nginx failed to respond within the timeout.",
    "The pods restarted because they failed to pass the health check.",
    "The scheduler missed the heartbeat and evicted the node.",
    "The migration tool skipped tables without a primary key.",
    "Deploys skipped the canary stage because the flag defaulted to off.",
    "Retries caused the load on the database to triple.",
    "Retries caused the outage.",
    "Traffic caused the outage.",
    # people acting, described factually
    "Alice rolled back the release at 14:20.",
    "Bob declared the incident at 14:05, four minutes after the first alert.",
    "Carol noticed the spike at 14:02 and paged the database team.",
    "The on-call engineer acknowledged the page at 14:03.",
    # blame words in compounds, or their look-alikes
    "The impact on customers was negligible.",
    "Lazy loading of the catalogue delayed the first page.",
    "The user error rate rose to 12%.",
    "Kafka's error rate stayed flat.",
    "Their error budget for the quarter is spent.",
    "The operator error log showed nothing.",
    "Fault tolerance in the payment path held: no payments were lost.",
    "The blameless review found three contributing factors.",
    # inference and estimates, not counterfactuals
    "The outage may have affected users in two regions.",
    "The certificate must have expired at midnight UTC.",
    "The bug could have corrupted other tables, so we verified them.",
    "Nothing would have been lost with a second replica.",
    "Automated checks would catch this class of change.",
    # "obvious" negated, and "of course" about a system
    "It was not obvious from the dashboard that only EU users were affected.",
    "There was no obvious signal before the disk filled.",
    "The graph was not obviously wrong at 14:00.",
    "Of course, retries amplified the load.",
    # plain facts and plans
    "The alert fired 12 minutes after error rates rose.",
    "The config change removed the connection limit.",
    "The runbook did not describe how to drain the queue.",
    "The missing alert on queue depth delayed detection by 20 minutes.",
    "The failover took longer than the expected five minutes.",
    "It was not clear which team owned the queue.",
    "We will add a canary stage so config changes roll out gradually.",
    # roles and teams acting, described factually
    "The ops team restarted the pods at 10:04.",
    "The DBA ran the migration as planned.",
    "QA signed off on the build at 09:40.",
    "Management approved the maintenance window on Monday.",
    "Leadership asked for hourly updates.",
    "The platform team rolled back the release at 14:20.",
    "The SRE team declared the incident at 14:05.",
    "The security team rotated the keys within an hour.",
    "The on-call engineer paged the database team at 14:07.",
    "The database team owns the replication alerts.",
    "The ops team could not reach the bastion host because the VPN was down.",
    "QA could not test the rollback path because staging was down.",
    "Ops failed over the database to the standby at 14:12.",
    "The network team's change window started at 02:00.",
    "The platform team's error budget for the quarter is spent.",
    "Management's approval arrived at 09:30.",
    "The DBA was told about the lock at 10:02 and paused the migration.",
    "The team was told about the maintenance window a week in advance.",
    # programs named like roles, and group words inside compounds
    "The secrets manager failed to rotate the database password.",
    "The Kubernetes operator failed to reconcile the deployment.",
    "Config management skipped the new hosts because their tags were missing.",
    # two clauses that report what was known and what was done, without defiance
    "Everyone knew the schedule; the deploy went out at 10:00.",
    "It was known that the disk was filling; the on-call added capacity at 10:05.",
    "Everyone knew the risk, so the team ran a dry run first.",
    "Everyone knew the plan, so the SRE went ahead at 14:10.",
    "Everyone on the bridge agreed to fail over; the SRE went ahead at 14:10.",
    "Everyone knew the freeze had ended, and the team still paged the release manager before deploying.",
    "It was clear the fix had worked, but the team still watched the graphs for an hour.",
    "Everyone knew the disk was filling; the alert fired anyway at 10:12.",
    "The migration ran anyway because the lock timeout was disabled.",
    "The deploy went ahead at 10:00 after the canary passed.",
    "The release went ahead regardless of the holiday because the fix was urgent.",
]


def rules_of(findings: list[Finding]) -> set[str]:
    return {finding.rule for finding in findings}


def test_the_corpus_is_large_enough() -> None:
    assert len(BLAMEFUL) >= 30
    assert len(NEUTRAL) >= 30
    assert {rule for _, rule in BLAMEFUL} == {"blame", "counterfactual", "hindsight"}


@pytest.mark.parametrize(("sentence", "rule"), BLAMEFUL)
def test_a_blameful_sentence_is_flagged_with_its_rule(sentence: str, rule: Rule) -> None:
    findings = lint(sentence)

    assert rule in rules_of(findings), findings


@pytest.mark.parametrize("sentence", NEUTRAL)
def test_a_neutral_sentence_is_not_flagged(sentence: str) -> None:
    assert lint(sentence) == []


@pytest.mark.parametrize(("sentence", "rule"), BLAMEFUL)
def test_every_suggestion_is_itself_blameless(sentence: str, rule: Rule) -> None:
    for finding in lint(sentence):
        assert finding.suggestion
        assert lint(finding.suggestion) == [], finding.suggestion


def test_a_finding_carries_the_phrase_a_message_and_a_rewrite_naming_the_condition() -> None:
    (finding,) = lint("Alice forgot to update the config.")

    assert finding.rule == "blame"
    assert finding.text == "Alice forgot"
    assert "person" in finding.message
    assert finding.suggestion == (
        "The step to update the config was not part of the checklist (describe the condition that allowed it)"
    )
    assert "Alice" not in finding.suggestion


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Erin ignored the alert for twenty minutes.", "The alert did not stand out"),
        ("Judy didn't check the diff.", "The step to check the diff was not part"),
        ("Ivan skipped the canary.", "The canary could be skipped with nothing to stop it"),
        ("Someone messed up the DNS record.", "The DNS record was not covered by a check"),
        ("Root cause: human error.", "Name the condition that made the error likely"),
        ("We should have rolled back sooner.", "Describe what was done instead"),
        ("Obviously the disk was going to fill.", "state the signal"),
        ("The ops team failed to check the replication lag.", "The step to check the replication lag"),
        ("Management ignored the capacity warnings.", "The capacity warnings did not stand out"),
        ("The DBA could have avoided the outage.", "what made the outcome hard to prevent"),
        ("The ops team should never have restarted the primary.", "Describe the step as it happened"),
        ("Everyone knows the schema is shared; Dave ran the migration anyway.", "made going ahead look"),
    ],
)
def test_a_suggestion_fits_the_phrase(sentence: str, expected: str) -> None:
    (finding,) = lint(sentence)

    assert expected in finding.suggestion


def test_a_location_names_the_section_line_and_column() -> None:
    text = "Impact started at 14:00.\nAt 14:05 the on-call failed to escalate."

    (finding,) = lint(text, location="summary")

    assert (finding.line, finding.column) == (2, 10)
    assert finding.location == "summary 2:10"
    assert finding.text == "the on-call failed to"


def test_a_location_without_a_section_is_line_and_column() -> None:
    (finding,) = lint("Obviously.")

    assert finding.location == "1:1"


def test_a_document_locates_list_items_by_their_zero_based_index() -> None:
    findings = lint_document(
        {
            "summary": "Checkout failed for 12% of users.",
            "contributing_factors": [
                "The alert threshold was 20%.",
                "The runbook did not cover the EU region.",
                "Sadly Alice forgot to warm the cache.",
            ],
            "what_went_well": "Obviously the rollback worked.",
        }
    )

    assert [(f.location, f.rule, f.text) for f in findings] == [
        ("contributing_factors[2] 1:7", "blame", "Alice forgot"),
        ("what_went_well 1:1", "hindsight", "Obviously"),
    ]


def test_findings_come_in_text_order() -> None:
    text = "Obviously we should have rolled back. Bob's mistake was careless."

    findings = lint(text)

    assert [f.text for f in findings] == [
        "Obviously",
        "should have rolled back",
        "Bob's mistake",
        "careless",
    ]
    assert [f.column for f in findings] == sorted(f.column for f in findings)


def test_overlapping_phrases_give_one_finding_with_the_stronger_rule() -> None:
    assert [(f.rule, f.text) for f in lint("He should have known.")] == [("blame", "should have known")]
    assert [(f.rule, f.text) for f in lint("It should have been obvious.")] == [("hindsight", "been obvious")]


def test_blame_across_two_clauses_is_one_finding_from_the_knowledge_to_the_act() -> None:
    (finding,) = lint("It was obvious that the disk would fill, but the SRE went ahead.")

    # One finding, blame rather than the hindsight of "was obvious" inside it.
    assert (finding.rule, finding.column) == ("blame", 1)
    assert finding.text == "It was obvious that the disk would fill, but the SRE went ahead"
    assert "SRE" not in finding.suggestion


def test_a_group_word_counts_as_people_only_where_it_names_them() -> None:
    assert rules_of(lint("QA failed to test the rollback path.")) == {"blame"}
    assert lint("The qa environment failed to start.") == []
    assert lint("Secret management failed to rotate the key.") == []


def test_vocabulary_is_matched_whatever_its_case() -> None:
    assert rules_of(lint("HUMAN ERROR")) == {"blame"}
    assert rules_of(lint("We Should Have Rolled Back")) == {"counterfactual"}
    assert rules_of(lint("OBVIOUSLY")) == {"hindsight"}


def test_curly_apostrophes_count_as_apostrophes() -> None:
    assert rules_of(lint("It was Bob\u2019s mistake.")) == {"blame"}
    assert rules_of(lint("She didn\u2019t bother.")) == {"blame"}
    assert rules_of(lint("We should\u2019ve rolled back.")) == {"counterfactual"}


def test_a_phrase_wrapped_over_a_line_break_is_found() -> None:
    (finding,) = lint("At 14:05 Alice\nforgot to renew the certificate.")

    assert finding.text == "Alice\nforgot"
    assert finding.location == "1:10"


def test_columns_stay_right_after_letters_that_grow_when_lower_cased() -> None:
    # "İ" lower-cases to two code points; positions must still map to the original.
    (finding,) = lint("İstanbul: Alice forgot to drain the node.")

    assert finding.column == 11
    assert finding.text == "Alice forgot"


def test_an_empty_text_has_no_findings() -> None:
    assert lint("") == []
    assert lint_document({}) == []
    assert lint_document({"follow_ups": []}) == []


def test_ten_thousand_lines_lint_quickly() -> None:
    # Every fifth line blameful, the rest the tricky neutral corpus: denser than a real
    # postmortem. The budget is 0.2 s; the assertion leaves room for a busy machine.
    lines = [
        BLAMEFUL[i % len(BLAMEFUL)][0] if i % 5 == 0 else NEUTRAL[i % len(NEUTRAL)] for i in range(10_000)
    ]
    text = "\n".join(lines)

    timings = []  # CPU time, not wall time: other work on the machine must not count
    for _ in range(3):
        started = time.process_time()
        findings = lint(text)
        timings.append(time.process_time() - started)

    assert len(findings) >= 2_000
    assert min(timings) < 0.4
