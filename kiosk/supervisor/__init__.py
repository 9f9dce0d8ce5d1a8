"""The supervisor station (Qt-free): officers sign in, watch every lane, resolve
referrals and publish clearance statistics; the kiosk agent is the lane's side.
Data goes through the border database (migration b0003)."""
