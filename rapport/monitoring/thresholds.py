"""Every clinical number the monitoring rules use, in one place, each with its source.

Where no published value exists we say so and why we chose the number. The values marked
"tuned" were set on the development seed of the synthetic cohorts (evaluation.DEV_SEED) and
reported on a different seed (evaluation.REPORT_SEED); see README.md.
"""

from __future__ import annotations

import math

# --- Alliance ruptures ------------------------------------------------------------------------
# A session at least 2 SD below the client's own usual alliance is a rupture, 1 SD a lighter
# notice (Stiles et al. 2004, J Couns Psychol 51:81, rupture-repair sequences defined against the
# client's own session-by-session ratings). The 1 SD lighter notice is our design's choice (it is
# not a published rupture criterion): it invites a check-in question, nothing more.
RUPTURE_SD = 2.0
DIP_SD = 1.0
# The client's "usual level" is the mean and SD of their earlier sessions, not counting sessions
# inside a rupture. At least 3 earlier sessions: no published number; with fewer, an SD is not
# an SD (with 2 points the sample SD is as likely to be half or double the true one).
MIN_PRIOR_SESSIONS = 3
# SD floor as a fraction of the scale's range: 5 points on the 0-100 check-in. No published
# value. Chosen so that a client who always answers near the same value (SD 0-2) does not raise
# a rupture on a 5-point wobble, the smallest change a client plausibly means on a slider;
# clients with ordinary variability (SD 5-10 points in our synthetic cohorts) are unaffected.
SD_FLOOR_FRACTION = 0.05
# The client's SD is shrunk towards a typical within-client SD, as if SD_PRIOR_WEIGHT earlier
# sessions had shown SD_PRIOR_FRACTION of the range (6.5 points on 0-100). No published value:
# session-to-session SDs of 5-8 points are what 0-100 alliance check-ins show in our synthetic
# cohorts, and an SD from 3-5 sessions alone is too noisy (a 2 SD rule with 3 earlier sessions
# flags about 10% of stable sessions instead of 2.3%). As sessions accumulate the client's own
# SD dominates. Tuned on the development seed.
SD_PRIOR_FRACTION = 0.065
SD_PRIOR_WEIGHT = 4.0
# Repair (ours; Stiles et al. 2004 and Safran & Muran describe repair as a return to the
# client's usual level but give no tolerance or duration). The client is back when a session is
# within REPAIR_SD of the pre-rupture usual level (no longer even a 1 SD notice below it). One
# good session is not a repair: with that rule 31% of unrepaired ruptures were marked repaired by
# one chance session back within 1 SD (evaluation, README.md). A rupture is repaired when
# - two consecutive sessions are back (REPAIR_SESSIONS), or
# - one session is at or above the pre-rupture usual level (not merely within 1 SD of it) and
#   every component is back within REPAIR_SD of its own pre-rupture level (component SDs as in
#   the component rule below): the whole relationship recovered, not only its average.
# The repair is dated at the session that confirms it (so a new finding never starts before
# the newest session, and keys stay stable as sessions are added); the rupture is open until
# then, and the repair's evidence keeps the first session back (`back_since`).
REPAIR_SD = 1.0
# --- Practice-fitted variability (variability.py) ---------------------------------------------
# With a prior fitted on the practice's own episodes (empirical Bayes, Smyth 2004; see
# variability.py), the constant prior and the 5-point floor above are replaced: the SD prior and
# its weight come from the practice, the SD floor is the rounding SD (resolution / sqrt(12),
# Sheppard's correction) and a drop must also be at least MIN_DROP_STEPS steps of the scale's
# resolution to be a notice or a rupture (5.7 points on the check-in, whose total moves in steps
# of 10/7): a steady client's 2 SD can be smaller than one step, and one or two items down by
# one point is not a meaningful break. Ours, tuned on the development seed (evaluation
# families, README.md: without the predictive spread, 3 steps flagged 5.7% of the ceiling
# family's stable sessions; with it, 4 steps flag 3.7% with 0.94 of ruptures found, 5 steps
# 2.3% with 0.92). A prior needs MIN_EPISODES_FOR_PRIOR clients with MIN_RATINGS_FOR_PRIOR
# ratings each (ours: below about 30 the mean log variance moves by more than a tenth); its
# weight is capped at MAX_PRIOR_WEIGHT pseudo-sessions so that a client's own SD still counts
# after a dozen sessions.
MIN_DROP_STEPS = 4.0
# The same smallest drop for the lighter notice (1 SD). Measured on the development seed: 1, 2
# or 4 steps for the notice changed no rupture figure by more than 0.002, so one number serves.
MIN_DIP_STEPS = 4.0
# With a fitted prior the SD no longer rests on the client's own few sessions, so two earlier
# ratings are enough for a usual level (with the constants, MIN_PRIOR_SESSIONS): a missed
# check-in early on no longer hides a rupture at session 4. Ours, tuned with the above.
MIN_PRIOR_SESSIONS_FITTED = 2
MIN_RATINGS_FOR_PRIOR = 4
MIN_EPISODES_FOR_PRIOR = 30
MAX_PRIOR_WEIGHT = 30.0
REPAIR_SESSIONS = 2
# A rupture still unrepaired after 3 sessions has set a new, lower level: further ruptures are
# judged against it (the open one can still be repaired by a return to the old level). No
# published value; three sessions is when a lower level is no longer a single bad session.
RUPTURE_SETTLE = 3
# Absolute low: a total in the bottom 40% of the scale (60 of 100). No published cutoff exists
# for our own relationship check-in (it is not a validated instrument). PCOMS treats an SRS below
# 36 of 40 as a concern (Duncan et al. 2003, J Brief Ther 3:3), but that cutoff belongs to the
# SRS's own distribution and is not transferable; an instrument's own published cutoff, when it
# has one, is used instead.
ALLIANCE_LOW_FRACTION = 0.60
# A large drop in one component: at least 35% of the component's scale (3.5 points on a 0-10
# item) below that component's own mean over at least MIN_PRIOR_SESSIONS earlier sessions. No
# published value; tuned on the development seed (30% flagged too many stable sessions, 40%
# missed more ruptures). It is its own notice (component_drop), no longer part of the rupture
# rule (the multi-component rule below replaced it).
COMPONENT_DROP_FRACTION = 0.35
# Multi-component rupture rule (ours, not published). A rupture usually shows in several parts
# of the relationship at once, and the total, an average of seven items, dilutes a drop the
# client puts on three of them. Each component is standardised against its own usual level (the
# same sessions as the total's: earlier sessions outside ruptures, at least MIN_PRIOR_SESSIONS),
# with its own SD shrunk like the total's (SD_PRIOR_WEIGHT pseudo-sessions of
# COMPONENT_SD_PRIOR_FRACTION of the component's range, 1.2 points on a 0-10 item) and floored
# at SD_FLOOR_FRACTION of its range. The drop distance is sqrt(sum over components of
# min(z_k, 0)^2): a Euclidean (Hotelling-style, diagonal) distance restricted to drops, so rises
# in other components do not hide a drop and do not count as one. A session at least DIP_SD
# below the usual total (a notice already) with a drop distance >= COMPONENT_DISTANCE is a
# rupture. Why these numbers: 1.2 points is the SD of one item of a seven-item mean whose
# within-client SD is 6.5 points (SD_PRIOR_FRACTION) when items correlate about 0.2-0.3 within a
# client; COMPONENT_DISTANCE was tuned on the development seed so that the whole rupture rule
# (both paths) flags at most 5% of stable sessions. Alternatives measured on the same seed at
# the same false-alarm rate (README.md): the mean of component z-scores (no better than the
# total: it is nearly the total), a count of components below -1.5 SD (weaker), the mean of the
# two lowest z-scores (about as good as the distance). Robust baselines (median and MAD) lost
# about 3 points of sensitivity on every statistic: with 3-6 earlier sessions the median and MAD
# are much noisier than the mean and SD, and earlier sessions inside ruptures are already left
# out of the baseline.
COMPONENT_SD_PRIOR_FRACTION = 0.12
COMPONENT_DISTANCE = 3.8
# The client's spread also from the items' within-session dispersion (ours; variability.py
# `item_ratio`, alliance.py, rupture_tracker.py). Used only with a practice prior whose item
# ratio was fitted (> 0), and only over baseline sessions with every item answered (two or
# more). Each such session adds ITEM_SPREAD_WEIGHT sessions' worth of evidence about the total's
# variance: the item residual variance times the practice's item ratio. Why 6: a session's
# residual has k - 1 = 6 degrees of freedom (seven items) against the total's 1, so 6 is what
# the items are worth if the practice's ratio holds for every client. Measured on the
# development seed at the component distance 3.8 (README.md, all three families): weights 3,
# 6 and 12 lie within 0.7 points of each other on every family; 6 has the fewest false alarms
# on today's family with its sensitivity, and the sparse family furthest under 5% of 3 and 6.
ITEM_SPREAD_WEIGHT = 6.0
# Items are whole numbers: rounding to a step of 1 adds 1/12 to their variance (Sheppard's
# correction), which is not the client moving, so it is taken off the residual variance.
ITEM_ROUNDING_VARIANCE = 1.0 / 12.0
# With the item spread in use, the components' SD prior follows the client's own spread: the
# 1.2 points above were derived for a total SD of 6.5 points (SD_PRIOR_FRACTION), so a client
# whose total SD is s gets 1.2 x s / 6.5 (a steady client's items are judged as steady ones,
# a restless client's as restless). Scaling against the practice's fitted SD instead cost the
# ceiling family 3 points of sensitivity on the development seed (README.md).

# --- Discrepancy ------------------------------------------------------------------------------
# Therapists rate the alliance higher than their clients do (Tryon, Blackwell & Hammel 2007,
# Psychother Res 17:629, meta-analysis of client and therapist alliance ratings). Margin: the
# therapist's total at least 20 points (of 100) above the client's for the same session. No
# published value; tuned: with client and therapist each varying by about 6-8 points from
# session to session, a smaller margin would flag accurate therapists in most episodes.
DISCREPANCY_FRACTION = 0.20

# --- Expected treatment response --------------------------------------------------------------
# Expected score by session from the intake score, fitted on log(session) within intake-severity
# bands (Finch, Lambert & Schaalje 2001, Clin Psychol Psychother 8:231; the log-linear dose-effect
# curve of Howard et al. 1986, Am Psychol 41:159). Tolerance bands from the residual spread.
# Two levels: a warning ("yellow" in OQ-Analyst terms) and a stronger one ("red"). The z values
# are ours, tuned on the development seed against the targets (deteriorators warned by
# session 4 in >= 85% of cases, the rate published for OQ-Analyst's signal system (Lambert et al.
# 2002; Hannan et al. 2005, J Clin Psychol 61:155); <= 15% of eventual improvers warned by then).
ETR_WARNING_Z = 1.0
ETR_STRONG_Z = 1.645  # one-sided 95%
# Fitting on a practice's own episodes: at least 50 eligible episodes (an intake and at least one
# later score) per intake-severity band, up to 3 bands. Why 50: the tolerance band is a residual
# SD, whose relative standard error is about 1/sqrt(2n); with 50 episodes it is about 10%, which
# moves a 1 SD band edge by a tenth of an SD. Fewer episodes: fewer bands; fewer than 50 in all:
# the defaults below.
MIN_EPISODES_PER_BAND = 50
MAX_BANDS = 3
# Defaults before a practice has enough episodes (no published generic curve; ours):
# - expected change: one reliable-change amount of improvement by session 8, following log(session)
#   (a typical short course of NHS Talking Therapies treatment improves PHQ-9 by about 6 points,
#   its reliable-change amount, over 6-8 sessions);
# - tolerance SD at session s: sqrt(m^2 + (k log s)^2), m = RC / 1.96 (the measurement-error SD
#   of a difference of two scores, Jacobson & Truax 1991) and k = RC / 3 per log-session unit
#   (between-client spread of rates of change; our choice, wider than most fitted curves, so the
#   defaults err towards fewer alarms).
DEFAULT_IMPROVEMENT_SESSION = 8
DEFAULT_SLOPE_SPREAD_PER_RC = 1.0 / 3.0
DEFAULT_LOG_IMPROVEMENT = math.log(DEFAULT_IMPROVEMENT_SESSION)

# --- Drop-out risk ----------------------------------------------------------------------------
# Base rate: about 20% of adults drop out of therapy (Swift & Greenberg 2012, J Consult Clin
# Psychol 80:547, weighted mean 19.7%).
DROPOUT_BASE_RATE = 0.20
# Weak alliance predicts drop-out, d about 0.55 (Sharf, Primavera & Diener 2010, Psychotherapy
# 47:637), as a log odds ratio d * pi / sqrt(3) = 1.0 (Chinn 2000, Stat Med 19:3127). Applied when
# the mean of the first EARLY_SESSIONS client alliance totals is in the low range (our reading:
# the published d compares weak with adequate alliances).
LOG_OR_LOW_EARLY_ALLIANCE = 0.55 * math.pi / math.sqrt(3)
EARLY_SESSIONS = 3
# The remaining weights are ours (no meta-analytic numbers that fit a per-event score):
# a missed appointment is the clearest behavioural sign of disengagement, so each no-show counts
# as an odds ratio of 2 (up to two), each late cancellation half that (up to two), missing at
# least half of the due check-ins an odds ratio of 1.65, and a rupture not yet repaired an odds
# ratio of 2 (unrepaired ruptures predict drop-out, Safran, Muran & Eubanks-Carter 2011,
# Psychotherapy 48:80, who give no per-rupture number).
LOG_OR_NO_SHOW = math.log(2.0)
LOG_OR_LATE_CANCEL = math.log(2.0) / 2
MAX_COUNTED_EVENTS = 2
LOG_OR_MISSED_CHECKINS = 0.5
MISSED_CHECKINS_FRACTION = 0.5
LOG_OR_UNREPAIRED_RUPTURE = math.log(2.0)
# Warn at twice the base rate (40%); our choice, so that one reason alone (e.g. one no-show,
# 33%) is not enough but two are.
DROPOUT_WARNING = 0.40

# --- Goal stagnation --------------------------------------------------------------------------
# No progress on a goal over GOAL_WINDOW consecutive ratings spanning at least GOAL_MIN_SPAN
# sessions: the best rating in the window is less than GOAL_MIN_PROGRESS of the scale above the
# window's first rating, and the goal is not achieved (below GOAL_ACHIEVED of the scale).
# No published values: four sessions is about a month of weekly work, and 10% of the scale is
# one step on the 0-10 goal rating.
GOAL_WINDOW = 4
GOAL_MIN_SPAN = 3
GOAL_MIN_PROGRESS = 0.10
GOAL_ACHIEVED = 0.90
