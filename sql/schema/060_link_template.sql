-- drip.link_template(p_html text, out marked text, out hrefs text[])
-- A body's trackable links: every <a> whose href is an absolute http(s) URL and that does not
-- carry data-pgdrip-notrack. `hrefs` holds their href values as written (merge tags and HTML
-- escapes included), in order; `marked` is the body with the k-th of them replaced by a
-- marker, chr(1) || k || chr(1), that drip.render_links swaps for the tracked link. mailto:,
-- tel:, anchors and relative links stay as they are. Immutable: steps keep the result in
-- generated columns, so the body is parsed once per save, not once per message.
create function drip.link_template(p_html text, out marked text, out hrefs text[])
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v_tag_pattern constant text := '<a\s[^>]*>';
    v_pos integer := 1;
    v_start integer;
    v_tag text;
    v_href text[];
    v_value text;
    v_count integer := 0;
begin
    marked := '';
    hrefs := '{}';
    if p_html is null then
        marked := null;
        return;
    end if;
    loop
        v_start := regexp_instr(p_html, v_tag_pattern, v_pos, 1, 0, 'i');
        exit when v_start = 0;
        v_tag := regexp_substr(p_html, v_tag_pattern, v_pos, 1, 'i');
        marked := marked || substr(p_html, v_pos, v_start - v_pos);
        v_pos := v_start + length(v_tag);
        v_href := regexp_match(v_tag, '\shref\s*=\s*("([^"]*)"|''([^'']*)''|([^\s>"'']+))', 'i');
        v_value := coalesce(v_href[2], v_href[3], v_href[4]);
        if v_value ~* '^\s*https?://' and v_tag !~* '\sdata-pgdrip-notrack\M' then
            v_count := v_count + 1;
            hrefs := hrefs || btrim(v_value);
            v_tag := regexp_replace(v_tag, '(\shref\s*=\s*)("[^"]*"|''[^'']*''|[^\s>"'']+)',
                                    '\1"' || chr(1) || v_count || chr(1) || '"', 'i');
        end if;
        marked := marked || v_tag;
    end loop;
    marked := marked || substr(p_html, v_pos);
end
$$;
