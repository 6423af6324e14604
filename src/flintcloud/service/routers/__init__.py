"""Thin HTTP routers: parse the request, call one service method, present the answer."""
