-- drip.html_to_text(p_html text) returns text
-- The plain-text part of a message, derived from its HTML: block tags become line breaks, a link
-- becomes "text (url)", other tags go, entities are decoded (numeric ones and the common named
-- ones). Immutable, so steps keep their text template in a generated column and every message's
-- text part is rendered by the database beside its HTML.
create function drip.html_to_text(p_html text) returns text
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v text := p_html;
    v_match text[];
    v_code integer;
    v_named constant text[] := array[
        'nbsp', ' ', 'quot', '"', 'apos', '''', 'lt', '<', 'gt', '>',
        'copy', '©', 'reg', '®', 'trade', '™', 'hellip', '…', 'mdash', '—', 'ndash', '–',
        'lsquo', '‘', 'rsquo', '’', 'ldquo', '“', 'rdquo', '”', 'laquo', '«', 'raquo', '»',
        'euro', '€', 'pound', '£', 'middot', '·', 'bull', '•', 'deg', '°', 'times', '×',
        'eacute', 'é', 'egrave', 'è', 'agrave', 'à', 'aacute', 'á', 'ouml', 'ö', 'uuml', 'ü',
        'auml', 'ä', 'szlig', 'ß', 'ccedil', 'ç', 'ntilde', 'ñ'];
begin
    if v is null then
        return null;
    end if;
    v := regexp_replace(v, '<!--.*?-->', '', 'g');
    -- one tag at a time: a back-reference would make the pattern greedy in PostgreSQL
    v := regexp_replace(v, '<script\M[^>]*?>.*?</script\s*>', '', 'gis');
    v := regexp_replace(v, '<style\M[^>]*?>.*?</style\s*>', '', 'gis');
    v := regexp_replace(v, '<head\M[^>]*?>.*?</head\s*>', '', 'gis');
    -- a link: its text, then its target in parentheses (unless the text is the target)
    v := regexp_replace(v, '<a\s[^>]*?\mhref\s*=\s*"([^"]*)"[^>]*>(.*?)</a\s*>', '\2 (\1)', 'gis');
    v := regexp_replace(v, '<a\s[^>]*?\mhref\s*=\s*''([^'']*)''[^>]*>(.*?)</a\s*>', '\2 (\1)', 'gis');
    v := regexp_replace(v, '<a\s[^>]*?\mhref\s*=\s*([^\s>"'']+)[^>]*>(.*?)</a\s*>', '\2 (\1)', 'gis');
    v := regexp_replace(v, '<br\s*/?>', E'\n', 'gi');
    v := regexp_replace(v, '</?(p|div|li|tr|h[1-6]|table|ul|ol|blockquote|section|header|footer)\M[^>]*>',
                        E'\n', 'gi');
    v := regexp_replace(v, '<[^>]*>', '', 'g');
    -- "go (go)" when the text was the target itself
    v := regexp_replace(v, '(\S+) \(\1\)', '\1', 'g');
    -- entities last, so that an escaped "&lt;b&gt;" stays text
    loop
        v_match := regexp_match(v, '&#(x[0-9a-f]{1,6}|[0-9]{1,7});', 'i');
        exit when v_match is null;
        v_code := case when v_match[1] ilike 'x%'
                       then ('x' || lpad(substr(v_match[1], 2), 8, '0'))::bit(32)::integer
                       else v_match[1]::integer end;
        v := replace(v, '&#' || v_match[1] || ';',
                     case when v_code between 1 and 1114111 and v_code not between 55296 and 57343
                          then chr(v_code) else chr(65533) end);
    end loop;
    for i in 1 .. array_length(v_named, 1) by 2 loop
        v := replace(v, '&' || v_named[i] || ';', v_named[i + 1]);
    end loop;
    v := replace(v, '&amp;', '&');
    v := regexp_replace(v, '[ \t\r]+', ' ', 'g');
    v := regexp_replace(v, ' ?\n ?', E'\n', 'g');
    v := regexp_replace(v, E'\n{3,}', E'\n\n', 'g');
    return btrim(v, E' \n') || E'\n';
end
$$;
