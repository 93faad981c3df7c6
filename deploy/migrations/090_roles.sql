-- 090: who may do what. Each service connects as a role of its own with only
-- the grants its statements need; reports read through a read-only role.
-- The owner (the role that runs the migrations: rectifyctl migrate) keeps
-- everything, and only it changes the schema.
--
-- The roles are the cluster's (every database of it shares them), so they
-- are made only where missing. They log in without a password: the private
-- cluster authenticates by peer (scripts/pg-start.sh maps the OS users that
-- run the project to these roles); elsewhere give them a password.
--
-- A migration that adds a table adds its grants too, in the block of each
-- role that needs it (rectify_report reads every table the owner makes,
-- through the default privileges below). Functions run with the caller's
-- rights (SECURITY INVOKER, the default), so the table grants decide what a
-- function can do for a role.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['rectify_intake', 'rectify_workflow', 'rectify_notify',
                             'rectify_report'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;   -- another database's migration made it at the same moment
            END;
        END IF;
    END LOOP;
END $$;

-- Nobody but the owner creates objects.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO rectify_intake, rectify_workflow, rectify_notify, rectify_report;

-- Every service checks at start that the schema is current.
GRANT SELECT ON schema_migration TO rectify_intake, rectify_workflow, rectify_notify;

-- Which copy of a service is active (each service reads the others' leases
-- to find their endpoints).
GRANT SELECT, INSERT, UPDATE ON service_lease TO rectify_intake, rectify_workflow, rectify_notify;

-- intake: stores accepted events and queues them to workflow (intake_accept),
-- then sends and forgets them as workflow acknowledges (its outbox pump).
GRANT SELECT, INSERT ON intake_event TO rectify_intake;
GRANT SELECT, INSERT, DELETE ON outbox TO rectify_intake;
GRANT SELECT, UPDATE ON outbox_counter TO rectify_intake;

-- workflow: applies events to the lifecycle, runs the clocks and the
-- scheduled reports, queues notices to notification.
GRANT SELECT, INSERT ON wf_event, unit, inspection_round, feedback_problem, task_history,
                        progress_report, evidence, institution, accountability,
                        funds_recovered
    TO rectify_workflow;
GRANT SELECT, INSERT, UPDATE ON task, timer, report_schedule TO rectify_workflow;
GRANT SELECT ON sim_clock TO rectify_workflow;
GRANT USAGE ON SEQUENCE task_history_id_seq, timer_id_seq TO rectify_workflow;
GRANT SELECT, INSERT, DELETE ON outbox TO rectify_workflow;
GRANT SELECT, UPDATE ON outbox_counter TO rectify_workflow;
GRANT SELECT, INSERT, UPDATE ON inbox_cursor TO rectify_workflow;
GRANT SELECT, INSERT ON dead_event TO rectify_workflow;
GRANT USAGE ON SEQUENCE dead_event_id_seq TO rectify_workflow;

-- notification: stores notices and their deliveries, to the recipients an
-- operator registered (rectifyctl recipient add, as the owner).
GRANT SELECT, INSERT ON notification TO rectify_notify;
GRANT SELECT, INSERT, UPDATE ON delivery TO rectify_notify;
GRANT SELECT ON recipient TO rectify_notify;
GRANT SELECT, INSERT, UPDATE ON inbox_cursor TO rectify_notify;
GRANT SELECT, INSERT ON dead_event TO rectify_notify;
GRANT USAGE ON SEQUENCE dead_event_id_seq TO rectify_notify;

-- The queues between services are shared tables: each service sees only
-- its own rows (the owner, who requeues and inspects, sees all).
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox_counter ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbox_cursor ENABLE ROW LEVEL SECURITY;
ALTER TABLE dead_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY intake_sends_to_workflow ON outbox TO rectify_intake USING (dest = 'workflow');
CREATE POLICY intake_sends_to_workflow ON outbox_counter TO rectify_intake USING (dest = 'workflow');
CREATE POLICY workflow_sends_to_notify ON outbox TO rectify_workflow USING (dest = 'notify');
CREATE POLICY workflow_sends_to_notify ON outbox_counter TO rectify_workflow USING (dest = 'notify');
CREATE POLICY workflow_consumes ON inbox_cursor TO rectify_workflow USING (consumer = 'workflow');
CREATE POLICY workflow_consumes ON dead_event TO rectify_workflow USING (consumer = 'workflow');
CREATE POLICY notify_consumes ON inbox_cursor TO rectify_notify USING (consumer = 'notify');
CREATE POLICY notify_consumes ON dead_event TO rectify_notify USING (consumer = 'notify');
CREATE POLICY report_reads ON outbox FOR SELECT TO rectify_report USING (true);
CREATE POLICY report_reads ON outbox_counter FOR SELECT TO rectify_report USING (true);
CREATE POLICY report_reads ON inbox_cursor FOR SELECT TO rectify_report USING (true);
CREATE POLICY report_reads ON dead_event FOR SELECT TO rectify_report USING (true);

-- reports (rectifyctl's ledger, bulletin, report, status, ...): read only,
-- every table, those of later migrations too.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO rectify_report;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO rectify_report;
