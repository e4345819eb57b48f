-- drip.is_mailbox_gone(p_reply text) returns boolean
-- Whether a permanent SMTP reply says the recipient's mailbox does not exist (behaviour 14): an
-- enhanced status 5.1.x (bad destination mailbox or system; not 5.1.7/5.1.8, which are about the
-- sender) or 5.2.1 (mailbox disabled), or, without an enhanced status, a 550 whose text says the
-- mailbox does not exist ("user unknown", "no such user", "mailbox not found"...). The generic
-- "550 mailbox unavailable" of RFC 5321, which servers also use for policy refusals, is not, nor
-- is any 551-553, nor a policy or content refusal (5.7.x, "spam"): they fail the message only.
create or replace function drip.is_mailbox_gone(p_reply text) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
    select case
        when p_reply is null or p_reply !~ '^5[0-9][0-9]' then false
        when p_reply ~ '^5[0-9][0-9][ -]5\.1\.[78]([^0-9]|$)' then false
        when p_reply ~ '^5[0-9][0-9][ -]5\.(1\.[0-9]{1,3}|2\.1)([^0-9]|$)' then true
        when p_reply ~ '^5[0-9][0-9][ -][245]\.[0-9]{1,3}\.[0-9]{1,3}' then false
        when p_reply ~ '^550([ -]|$)'
             and p_reply ~* ('(user|mailbox|recipient|address|account)[^.;]{0,40}'
                             '(unknown|not found|does ?n[o'']t exist|not exist|no such)'
                             '|(no such|unknown|invalid|non-?existent) (user|mailbox|recipient|account)')
             and p_reply !~* '(spam|policy|blocked|blacklist|denied|reputation|rejected for)' then true
        else false end
$$;
