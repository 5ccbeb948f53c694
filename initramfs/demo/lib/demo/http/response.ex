defmodule Demo.HTTP.Response do
  @moduledoc "Serialises an HTTP/1.1 response (with Content-Length, except a 204's)."

  @reasons %{
    200 => "OK",
    202 => "Accepted",
    204 => "No Content",
    400 => "Bad Request",
    403 => "Forbidden",
    404 => "Not Found",
    405 => "Method Not Allowed",
    413 => "Content Too Large",
    431 => "Request Header Fields Too Large",
    500 => "Internal Server Error",
    501 => "Not Implemented",
    503 => "Service Unavailable",
    505 => "HTTP Version Not Supported",
    507 => "Insufficient Storage"
  }

  @spec reason(pos_integer()) :: String.t()
  def reason(status), do: Map.get(@reasons, status, "Unknown")

  @doc "iodata for the status line, headers and body (body left out for HEAD)."
  @spec build(pos_integer(), [{String.t(), String.t()}], iodata(), boolean(), keyword()) ::
          iodata()
  def build(status, headers, body, keep_alive?, opts \\ []) do
    length = IO.iodata_length(body)
    connection = if keep_alive?, do: "keep-alive", else: "close"

    # A 204 has no body and no Content-Length (RFC 9110 8.6).
    length_header = if status == 204, do: [], else: [{"content-length", Integer.to_string(length)}]

    all_headers =
      headers ++ length_header ++ [{"connection", connection}, {"server", "microbeam-demo"}]

    [
      "HTTP/1.1 ",
      Integer.to_string(status),
      " ",
      reason(status),
      "\r\n",
      Enum.map(all_headers, fn {name, value} -> [name, ": ", value, "\r\n"] end),
      "\r\n",
      if(Keyword.get(opts, :head?, false), do: [], else: body)
    ]
  end
end
