"""WeChat Official Account (公众号/服务号) channel: the message protocol, the API client."""
