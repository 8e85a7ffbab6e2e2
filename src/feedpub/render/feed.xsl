<?xml version="1.0" encoding="UTF-8"?>
<!--
  feedpub's stylesheet for its Atom and RSS feeds ([feeds] stylesheet = true): a browser that
  applies XSLT to a feed shows it as a page (title, description, the feed's URL to copy into a
  reader, the entries). Feed readers ignore it.

  Every value from the feed is written as text, never as markup: no disable-output-escaping
  anywhere, no entry content at all (a summary is shown as text), links only to http(s) URLs,
  and a Content-Security-Policy that lets no script run on the page, whatever an article holds.
  RSS text fields are HTML-escaped text (feedpub.render.safe): their &lt; &gt; &amp; &quot;
  &#39; are read back to the characters they stand for, and shown as text.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="rss" select="boolean(/rss/channel)"/>
  <xsl:variable name="self" select="(/atom:feed/atom:link[@rel='self'] | /rss/channel/atom:link[@rel='self'])[1]/@href"/>
  <xsl:variable name="home" select="(/atom:feed/atom:link[@rel='alternate'][1]/@href | /rss/channel/link)[1]"/>

  <xsl:template match="/">
    <html lang="{(/atom:feed/@xml:lang | /rss/channel/language)[1]}">
      <head>
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="referrer" content="no-referrer"/>
        <title>
          <xsl:call-template name="text">
            <xsl:with-param name="value" select="(/atom:feed/atom:title | /rss/channel/title)[1]"/>
          </xsl:call-template>
          <xsl:text> (feed)</xsl:text>
        </title>
        <style>
          :root { color-scheme: light dark; }
          body { font: 1rem/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
          .feed-note { border: 1px solid #8888; border-radius: .5rem; padding: .75rem 1rem; }
          .feed-note input { width: 100%; box-sizing: border-box; font: .9rem monospace; padding: .3rem; }
          .entry { margin: 1.75rem 0; }
          .entry h2 { font-size: 1.15rem; margin: 0; }
          .entry time { font-size: .9rem; opacity: .75; }
          .entry p { margin: .35rem 0 0; }
        </style>
      </head>
      <body>
        <header>
          <h1>
            <xsl:call-template name="text">
              <xsl:with-param name="value" select="(/atom:feed/atom:title | /rss/channel/title)[1]"/>
            </xsl:call-template>
          </h1>
          <xsl:variable name="description" select="(/atom:feed/atom:subtitle | /rss/channel/description)[1]"/>
          <xsl:if test="normalize-space($description) and normalize-space($description) != normalize-space((/atom:feed/atom:title | /rss/channel/title)[1])">
            <p class="feed-description">
              <xsl:call-template name="text">
                <xsl:with-param name="value" select="$description"/>
              </xsl:call-template>
            </p>
          </xsl:if>
          <div class="feed-note">
            <p>This is a web feed. To follow it, copy its address into your feed reader:</p>
            <input class="feed-url" type="text" readonly="readonly" value="{$self}" aria-label="the feed's address"/>
            <xsl:if test="$home">
              <p>
                <xsl:call-template name="link">
                  <xsl:with-param name="href" select="$home"/>
                  <xsl:with-param name="label" select="'Visit the site'"/>
                </xsl:call-template>
              </p>
            </xsl:if>
          </div>
        </header>
        <main>
          <xsl:apply-templates select="/atom:feed/atom:entry | /rss/channel/item"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry">
    <article class="entry">
      <h2>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="(atom:link[@rel='alternate'] | atom:link[not(@rel)])[1]/@href"/>
          <xsl:with-param name="label" select="string(atom:title)"/>
        </xsl:call-template>
      </h2>
      <xsl:variable name="date" select="(atom:published | atom:updated)[1]"/>
      <xsl:if test="$date">
        <time datetime="{$date}"><xsl:value-of select="substring($date, 1, 10)"/></time>
      </xsl:if>
      <xsl:if test="normalize-space(atom:summary)">
        <p class="summary"><xsl:value-of select="atom:summary"/></p>
      </xsl:if>
    </article>
  </xsl:template>

  <xsl:template match="item">
    <article class="entry">
      <h2>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="link"/>
          <xsl:with-param name="label">
            <xsl:call-template name="text">
              <xsl:with-param name="value" select="title"/>
            </xsl:call-template>
          </xsl:with-param>
        </xsl:call-template>
      </h2>
      <xsl:if test="pubDate">
        <!-- "Tue, 02 Jan 2024 10:00:00 +0000": the day, without the time -->
        <time><xsl:value-of select="substring(normalize-space(pubDate), 1, 16)"/></time>
      </xsl:if>
      <xsl:if test="normalize-space(description)">
        <p class="summary">
          <xsl:call-template name="text">
            <xsl:with-param name="value" select="description"/>
          </xsl:call-template>
        </p>
      </xsl:if>
    </article>
  </xsl:template>

  <!-- A link to an http(s) URL; any other URL (javascript:, data:...) is not linked. -->
  <xsl:template name="link">
    <xsl:param name="href"/>
    <xsl:param name="label"/>
    <xsl:variable name="url" select="normalize-space($href)"/>
    <xsl:variable name="scheme" select="translate(substring($url, 1, 8), 'HTPS', 'htps')"/>
    <xsl:choose>
      <xsl:when test="starts-with($scheme, 'https://') or starts-with($scheme, 'http://')">
        <a href="{$url}"><xsl:value-of select="$label"/></a>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="$label"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- A text field as text: RSS fields are HTML-escaped text, read back here; Atom text is
       text already. -->
  <xsl:template name="text">
    <xsl:param name="value"/>
    <xsl:choose>
      <xsl:when test="$rss">
        <xsl:call-template name="unescape">
          <xsl:with-param name="s" select="string($value)"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="$value"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The text HTML-escaped text stands for (&lt; &gt; &amp; &quot; &#39; &#x27;), written
       as text. Long strings are halved (never inside a reference: a reference is at most 6
       characters, so a cut is moved before any "&" in the 5 characters before it), so the
       templates nest about log2(length) + 256 deep, within every XSLT processor's limit. -->
  <xsl:template name="unescape">
    <xsl:param name="s"/>
    <xsl:variable name="n" select="string-length($s)"/>
    <xsl:choose>
      <xsl:when test="not(contains($s, '&amp;'))">
        <xsl:value-of select="$s"/>
      </xsl:when>
      <xsl:when test="$n &gt; 256">
        <xsl:variable name="m" select="floor($n div 2)"/>
        <xsl:variable name="tail" select="substring($s, $m - 4, 5)"/>
        <xsl:variable name="cut">
          <xsl:choose>
            <xsl:when test="contains($tail, '&amp;')">
              <xsl:value-of select="$m - 5 + string-length(substring-before($tail, '&amp;'))"/>
            </xsl:when>
            <xsl:otherwise>
              <xsl:value-of select="$m"/>
            </xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <xsl:call-template name="unescape">
          <xsl:with-param name="s" select="substring($s, 1, $cut)"/>
        </xsl:call-template>
        <xsl:call-template name="unescape">
          <xsl:with-param name="s" select="substring($s, $cut + 1)"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="substring-before($s, '&amp;')"/>
        <xsl:variable name="rest" select="substring-after($s, '&amp;')"/>
        <xsl:variable name="after">
          <xsl:choose>
            <xsl:when test="starts-with($rest, 'lt;')"><xsl:text>&lt;</xsl:text>4</xsl:when>
            <xsl:when test="starts-with($rest, 'gt;')"><xsl:text>&gt;</xsl:text>4</xsl:when>
            <xsl:when test="starts-with($rest, 'amp;')"><xsl:text>&amp;</xsl:text>5</xsl:when>
            <xsl:when test="starts-with($rest, 'quot;')"><xsl:text>"</xsl:text>6</xsl:when>
            <xsl:when test="starts-with($rest, '#39;')"><xsl:text>'</xsl:text>5</xsl:when>
            <xsl:when test="starts-with($rest, '#x27;')"><xsl:text>'</xsl:text>6</xsl:when>
            <xsl:otherwise><xsl:text>&amp;</xsl:text>1</xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <xsl:value-of select="substring($after, 1, 1)"/>
        <xsl:call-template name="unescape">
          <xsl:with-param name="s" select="substring($rest, number(substring($after, 2)))"/>
        </xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
