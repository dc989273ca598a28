-- Supabase's role model, reproduced for the local stack.
-- anon / authenticated / service_role never log in; the REST layer connects as `authenticator`
-- and switches to one of them per request (SET LOCAL ROLE). service_role bypasses RLS as in Supabase.
CREATE ROLE anon NOLOGIN NOINHERIT;
CREATE ROLE authenticated NOLOGIN NOINHERIT;
CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
-- The password is set by the stack at start-up (ALTER ROLE authenticator PASSWORD ...).
CREATE ROLE authenticator LOGIN NOINHERIT;
GRANT anon TO authenticator;
GRANT authenticated TO authenticator;
GRANT service_role TO authenticator;

-- Supabase's default grants on schema public (the policies, not the grants, decide access).
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
