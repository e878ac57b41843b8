-- Mirrors mall.people.users (the outlets a volunteer serves at): one row per volunteer and outlet. Both engines.
CREATE UNIQUE INDEX mall_volunteer_outlet_user_outlet ON mall_volunteer_outlet (user_id, outlet);
