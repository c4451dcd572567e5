"""Where the overlay goes on a screen (ui/placement.py), on plain rectangles: no window,
no Qt. A rectangle is (x, y, width, height) in px, as QRect.getRect() gives it."""
from ui.placement import GRIP_PX, at_top_right, back_on_screen, inside

SCREEN = (0, 0, 1920, 1040)            # a 1920x1080 screen above a 40 px task bar
RIGHT = (1920, 0, 1280, 720)           # a second screen to the right of it


def test_a_new_panel_sits_at_the_top_right_by_its_margin():
    x, y = at_top_right(340, SCREEN, 24)
    assert (x + 340 - 1, y) == (1920 - 1 - 24, 24)            # its right edge 24 px in from the screen's
    assert at_top_right(340, RIGHT, 24) == (1920 + 1280 - 340 - 24, 24)


def test_a_panel_inside_the_screen_stays_where_it_is():
    assert inside((100, 200, 340, 300), SCREEN) == (100, 200)
    assert inside((0, 0, 1920, 1040), SCREEN) == (0, 0)       # exactly the screen


def test_a_panel_past_an_edge_goes_back_against_that_edge():
    assert inside((1900, 1020, 340, 300), SCREEN) == (1920 - 340, 1040 - 300)    # past bottom-right
    assert inside((-200, 50, 340, 300), SCREEN) == (0, 50)                     # past the left edge only
    assert inside((2000, -10, 340, 300), RIGHT) == (2000, 0)                    # on the second screen


def test_a_saved_panel_keeps_a_corner_to_grab_on_its_screen():
    grip_w, grip_h = GRIP_PX
    assert back_on_screen(500, 400, SCREEN) == (500, 400)                      # where it was
    assert back_on_screen(1915, 1035, SCREEN) == (1919 - grip_w, 1039 - grip_h)   # its corner within reach
    assert back_on_screen(-50, -50, SCREEN) == (0, 0)
    assert back_on_screen(3190, 100, RIGHT) == (1920 + 1279 - grip_w, 100)
