-- Supabase grants everything in public to the API roles (RLS does the gatekeeping). Applied last so
-- it also covers objects created above, in addition to the default privileges from 001.
GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO anon, authenticated, service_role;
