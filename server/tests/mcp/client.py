"""An MCP client for the API tests: the official Python SDK (mcp==2.3.0, in .tools/venv)
against the server at argv[1]. It runs one scenario (argv[2]) and prints what it saw as one
JSON object for the Rust test to check.

  session            initialize, list the tools, search, read a page, the unknown-path errors
  search QUESTIONS   search_docs for each question of a JSONL file; each answer's page paths
  ask                ask_docs one question
"""
import asyncio
import json
import sys
import time

from mcp import Client
from mcp.shared.exceptions import MCPError


def text_of(result):
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def session(url):
    async with Client(url) as client:
        out = {
            "server": client.server_info.name,
            "protocol": str(client.protocol_version),
            "tools": {},
        }
        for tool in (await client.list_tools()).tools:
            out["tools"][tool.name] = {
                "description": tool.description,
                "input": tool.input_schema,
            }
        found = await client.call_tool("search_docs", {"query": "How do I embed the widget?", "limit": 3})
        out["search"] = {
            "is_error": bool(found.is_error),
            "structured": found.structured_content,
            "text": text_of(found),
        }
        path = found.structured_content["results"][0]["path"]
        page = await client.call_tool("get_doc_page", {"path": path})
        out["page"] = {"path": path, "is_error": bool(page.is_error), "text": text_of(page)}
        out["errors"] = {}
        for bad in ["no/such/page.md", "../Cargo.toml", "/etc/passwd"]:
            r = await client.call_tool("get_doc_page", {"path": bad})
            out["errors"][bad] = {"is_error": bool(r.is_error), "text": text_of(r)}
        empty = await client.call_tool("search_docs", {"query": ""})
        out["empty_query"] = {"is_error": bool(empty.is_error), "text": text_of(empty)}
        big = await client.call_tool("search_docs", {"query": "buttons", "limit": 21})
        out["big_limit"] = {"is_error": bool(big.is_error), "text": text_of(big)}
        try:
            ask = await client.call_tool("ask_docs", {"question": "What is a thread?"})
            out["ask"] = {"is_error": bool(ask.is_error), "text": text_of(ask)}
        except MCPError as e:
            out["ask"] = {"protocol_error": str(e)}
        return out


async def search(url, questions_path):
    questions = [json.loads(l) for l in open(questions_path) if l.strip()]
    out = []
    async with Client(url) as client:
        for q in questions:
            started = time.perf_counter()
            r = await client.call_tool("search_docs", {"query": q["question"], "limit": 5})
            ms = (time.perf_counter() - started) * 1000
            paths = [h["path"] for h in r.structured_content["results"]]
            out.append({"id": q.get("id"), "paths": paths, "relevant": q["relevant"], "ms": ms})
    return out


async def ask(url):
    async with Client(url) as client:
        r = await client.call_tool("ask_docs", {"question": "How do I embed the widget on my docs site?"})
        return {"is_error": bool(r.is_error), "text": text_of(r), "structured": r.structured_content}


def main():
    url, scenario = sys.argv[1], sys.argv[2]
    if scenario == "session":
        result = asyncio.run(session(url))
    elif scenario == "search":
        result = asyncio.run(search(url, sys.argv[3]))
    elif scenario == "ask":
        result = asyncio.run(ask(url))
    else:
        sys.exit(f"unknown scenario {scenario}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
