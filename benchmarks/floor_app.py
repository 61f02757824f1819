"""The floor: the smallest Streamlit page with a pydeck map, for bench_app.py.

One sea rectangle and one red triangle, no basemap, no widgets. Whatever it
takes to draw in the same browser on the same machine, no Streamlit + pydeck
app can beat; the app's figures are read against it.
"""

from __future__ import annotations

import pydeck as pdk
import streamlit as st

RED = [220, 40, 40, 255]
st.set_page_config(layout="wide")
st.pydeck_chart(
    pdk.Deck(
        layers=[
            pdk.Layer("PolygonLayer",
                      data=[{"p": [[-3, 49], [1, 49], [1, 52], [-3, 52]]}],
                      get_polygon="p", get_fill_color=[170, 211, 223, 255]),
            pdk.Layer("PolygonLayer",
                      data=[{"p": [[-1.5, 50.8], [-1.3, 50.8], [-1.3, 51.0]]}],
                      get_polygon="p", get_fill_color=RED),
        ],
        initial_view_state=pdk.ViewState(latitude=50.9, longitude=-1.4, zoom=8),
        map_style="__MAP_STYLE__", map_provider=None,
    ),
    height=470,
)
