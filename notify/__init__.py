"""政策找人: families who consented are told when an elder becomes eligible — an age reached, a
policy added or changed, a programme starting or ending, a waiting-list place or a booking
decided by staff (docs/notify.md). Imports storage and policy_kb only; channels deliver
(a Deliverer per channel, notify/deliver.py), app wires them (app/cli_notify.py)."""
